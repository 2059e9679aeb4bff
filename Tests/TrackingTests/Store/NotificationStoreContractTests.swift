import Foundation
import Testing
import Tracking

@Suite("Store contract: notification outbox and consents")
struct NotificationStoreContractTests {
  static let t0 = Timestamp(microseconds: 1_772_409_600_000_000)  // 2026-03-02 00:00 UTC

  /// The write of COLLECTED with its messages, as the writer with a planner decides it.
  static func collection(
    _ number: TrackingNumber,
    in stores: Stores,
    planner: NotificationPlanner,
    key: IdempotencyKey?
  ) async throws -> ShipmentWrite {
    let stored = try #require(try await stores.shipments.shipmentWithCommitment(number))
    let event = try Fixture.event(.collected, after: stored.shipment)
    let writer = ShipmentWriter(timekeeper: nil, notifications: planner)
    return writer.write(appending: [event], to: stored, idempotencyKey: key, now: Self.t0)
  }

  @Test(
    "messages are queued with their events, once, and move through retries, dead letters, postponement, cancellation and an operator's retry",
    arguments: StoreBackend.all
  )
  func outbox(backend: StoreBackend) async throws {
    let stores = try await backend.open()
    let number = try await Fixture.register(stores, key: Fixture.key("r")).value.shipment
      .trackingNumber
    let stored = try #require(try await stores.shipments.shipmentWithCommitment(number))
    _ = try await stores.shipments.commit(
      Fixture.writer.write(
        NotificationConsent(channel: .sms, changedAt: Self.t0, source: .citizen, actor: nil),
        to: stored,
        now: Self.t0
      )
    )
    let planner = NotificationPlanner(
      settings: NotificationSettingsHolder(
        NotificationSettings(channels: [.sms], subscriptions: [WebhookSubscription(id: "portal")])
      )
    )
    let key = try Fixture.key("c")
    let write = try await Self.collection(number, in: stores, planner: planner, key: key)
    #expect(try await stores.shipments.commit(write).isReplay == false)
    // A replay of the same write queues nothing more.
    #expect(try await stores.shipments.commit(write).isReplay)
    let queued = try await stores.notifications.notifications(
      matching: NotificationQuery(trackingNumber: number)
    )
    #expect(queued.count == 2)
    #expect(Set(queued.map(\.destination)) == [.sms, .webhook("portal")])
    #expect(queued.allSatisfy { $0.kind == .received && $0.eventSequence == 2 })
    let sms = try #require(queued.first { $0.destination == .sms })
    #expect(sms.id == "msg_\(number.rawValue)_2_sms")

    #expect(try await stores.notifications.dueNotifications(now: Self.t0, limit: 10).count == 2)
    #expect(try await stores.notifications.nextNotificationTime() == Self.t0)
    let later = Self.t0.advanced(by: .seconds(60))
    try await stores.notifications.recordFailedAttempt(
      id: sms.id,
      at: Self.t0,
      error: "HTTP 503",
      nextAttemptAt: later,
      deadLetter: false
    )
    try await stores.notifications.postpone(id: sms.id, until: later.advanced(by: .seconds(60)))
    var due = try await stores.notifications.dueNotifications(now: later, limit: 10)
    #expect(due.map(\.destination) == [.webhook("portal")])
    let hook = due[0]
    try await stores.notifications.recordSent(id: hook.id, at: later)
    try await stores.notifications.recordFailedAttempt(
      id: sms.id,
      at: later,
      error: "HTTP 503",
      nextAttemptAt: later,
      deadLetter: true
    )
    due = try await stores.notifications.dueNotifications(
      now: later.advanced(by: .seconds(3600)),
      limit: 10
    )
    #expect(due.isEmpty)
    #expect(try await stores.notifications.nextNotificationTime() == nil)
    let summaries = try await stores.notifications.summaries()
    let smsSummary = try #require(summaries.first { $0.destination == .sms })
    #expect(smsSummary.dead == 1 && smsSummary.lastError == "HTTP 503")
    #expect(summaries.first { $0.destination == .webhook("portal") }?.sent == 1)

    await #expect(throws: TrackingError.self) {
      _ = try await stores.notifications.retryDeadLetter(id: hook.id, now: later)
    }
    let retried = try #require(
      try await stores.notifications.retryDeadLetter(id: sms.id, now: later)
    )
    #expect(retried.status == .pending && retried.attempts == 0 && retried.id == sms.id)
    #expect(try await stores.notifications.retryDeadLetter(id: "msg_none", now: later) == nil)
    try await stores.notifications.cancel(id: sms.id, at: later, reason: "erased")
    let cancelled = try #require(try await stores.notifications.notification(id: sms.id))
    #expect(cancelled.status == .cancelled && cancelled.lastError == "erased")

    // Everything survives a restart.
    let reopened = try await backend.reopen(stores)
    #expect(try await reopened.notifications.notification(id: hook.id)?.status == .sent)
  }

  @Test(
    "every choice of channel is kept in order, and the shipment reads the last one",
    arguments: StoreBackend.all
  )
  func consents(backend: StoreBackend) async throws {
    let stores = try await backend.open()
    let number = try await stores.shipments.register(
      indicator: Fixture.indicator,
      idempotencyKey: try Fixture.key("k")
    ) { number in
      let draft = try Fixture.draft()
      var shipment = draft.shipment(number: number)
      shipment.notificationChannel = .zalo
      var registration = Fixture.writer.registration(
        shipment,
        commitment: Fixture.commitment,
        custodySalt: draft.custodySalt,
        idempotencyKey: try Fixture.key("k")
      )
      registration.consent = NotificationConsent(
        channel: .zalo,
        changedAt: Self.t0,
        source: .registration,
        actor: Fixture.clerk
      )
      return registration
    }.value.shipment.trackingNumber
    let stored = try #require(try await stores.shipments.shipmentWithCommitment(number))
    #expect(stored.shipment.notificationChannel == .zalo)
    _ = try await stores.shipments.commit(
      Fixture.writer.write(
        NotificationConsent(channel: .none, changedAt: Self.t0, source: .citizen, actor: nil),
        to: stored,
        now: Self.t0
      )
    )
    #expect(
      try await stores.shipments.shipment(number)?.notificationChannel == NotificationChannel.none
    )
    let history = try await stores.notifications.consents(of: number)
    #expect(history.map(\.channel) == [.zalo, .none])
    #expect(history.map(\.source) == [.registration, .citizen])
    #expect(history[0].actor == Fixture.clerk && history[1].actor == nil)
  }
}
