import AsyncHTTPClient
import Logging
import NIOCore
import ServiceLifecycle
import Tracking

/// Sends the notification outbox: SMS, Zalo and signed webhooks, with retries.
///
/// Messages are queued in the transaction of the events they tell about, so none is lost and
/// none is sent for a change that did not commit. The dispatcher sleeps until the outbox
/// changes or its earliest message is due (an idle gateway does nothing); a message due in a
/// channel's quiet hours waits until they end; each channel keeps its rate. A failed attempt
/// is retried on the schedule (Standard Webhooks' by default, with jitter), the message keeping
/// its id, and dead-lettered when the schedule is spent; an operator can put it back. The text
/// is made from the shipment's stored event at each attempt, so the outbox holds no personal
/// data; a message to a citizen whose data was erased meanwhile is cancelled. Logs name the
/// message and the destination, never a phone number or a text.
struct NotificationDispatcher: Service, CustomStringConvertible {
  var description: String { "NotificationDispatcher" }

  let store: any NotificationStore
  let shipments: any ShipmentStore
  let channels: NotificationChannels
  let clock: any WallClock
  let feed: ChangeFeed
  let logger: Logger

  func run() async throws {
    let client = HTTPClient(
      eventLoopGroup: HTTPClient.defaultEventLoopGroup,
      configuration: HTTPClient.Configuration(
        redirectConfiguration: .disallow,
        timeout: .init(connect: .seconds(5))
      )
    )
    await self.loop(client)
    try await client.shutdown()
  }

  private func loop(_ client: HTTPClient) async {
    while !Task.isCancelled, !Task.isShuttingDownGracefully {
      // Taken before the read, so a message queued meanwhile wakes the loop at once.
      let position = self.feed.position()
      var due: [OutboundNotification] = []
      var next: Timestamp?
      do {
        due = try await self.store.dueNotifications(
          now: self.clock.now(),
          limit: self.channels.maximumInFlight
        )
        if due.isEmpty { next = try await self.store.nextNotificationTime() }
      } catch {
        self.logger.error("notification outbox unreadable", metadata: ["error": "\(error)"])
        next = self.clock.now().advanced(by: .seconds(1))
      }
      if !due.isEmpty {
        await withDiscardingTaskGroup { group in
          for message in due {
            group.addTask { await self.deliver(message, client) }
          }
        }
        continue
      }
      let wakeAt = next
      await cancelWhenGracefulShutdown {
        await self.feed.wait(
          for: [.notifications],
          after: position,
          until: wakeAt,
          clock: self.clock
        )
      }
    }
  }

  private func deliver(_ message: OutboundNotification, _ client: HTTPClient) async {
    let logger = self.logger.with("notification.id", message.id).with(
      "notification.destination",
      message.destination.description
    )
    let now = self.clock.now()
    guard let sender = self.channels.sender(for: message.destination) else {
      await self.recordFailure(
        message,
        "\(message.destination) is not configured",
        at: now,
        logger
      )
      return
    }
    if let end = sender.quietHours?.end(holding: now) {
      do {
        try await self.store.postpone(id: message.id, until: end)
        logger.info("notification held for quiet hours", metadata: ["notification.until": "\(end)"])
      } catch {
        logger.error("notification not postponed", metadata: ["error": "\(error)"])
      }
      return
    }
    do {
      guard let shipment = try await self.shipments.shipment(message.trackingNumber),
        let content = NotificationContent(
          message.kind,
          sequence: message.eventSequence,
          of: shipment,
          trackingPage: self.channels.trackingPage
        )
      else {
        try await self.store.cancel(id: message.id, at: now, reason: "the event is not stored")
        logger.error("notification cancelled: its event is not stored")
        return
      }
      let toCitizen = message.destination.subscription == nil
      if toCitizen, shipment.personalDataErasedAt != nil {
        try await self.store.cancel(
          id: message.id,
          at: now,
          reason: "the citizen's personal data was erased"
        )
        logger.notice("notification cancelled: personal data erased")
        return
      }
      try await sender.limiter.acquire()
      let attemptAt = self.clock.now()
      let request = try sender.request(
        for: message,
        content: content,
        phone: toCitizen ? shipment.applicant.phone : nil,
        now: attemptAt
      )
      let response = try await client.execute(
        request,
        timeout: .milliseconds(
          self.channels.attemptTimeout.components.seconds * 1000
            + self.channels.attemptTimeout.components.attoseconds / 1_000_000_000_000_000
        ),
        logger: nil
      )
      let body = try await response.body.collect(upTo: 64 * 1024)
      try sender.accept(status: response.status, body: body)
      try await self.store.recordSent(id: message.id, at: self.clock.now())
      logger.info(
        "notification sent",
        metadata: ["notification.attempt": "\(message.attempts + 1)"]
      )
    } catch let error as CancellationError {
      _ = error  // shutting down: the message stays pending and goes after the restart
    } catch {
      await self.recordFailure(message, Self.describe(error), at: self.clock.now(), logger)
    }
  }

  private func recordFailure(
    _ message: OutboundNotification,
    _ error: String,
    at now: Timestamp,
    _ logger: Logger
  ) async {
    let failures = message.attempts + 1
    var generator = SystemRandomNumberGenerator()
    let next = self.channels.schedule.nextAttempt(
      afterFailures: failures,
      at: now,
      using: &generator
    )
    do {
      try await self.store.recordFailedAttempt(
        id: message.id,
        at: now,
        error: error,
        nextAttemptAt: next ?? now,
        deadLetter: next == nil
      )
    } catch {
      logger.error("failed attempt not recorded", metadata: ["error": "\(error)"])
    }
    if let next {
      logger.warning(
        "notification attempt failed",
        metadata: [
          "notification.attempts": "\(failures)", "notification.next": "\(next)",
          "error": "\(error)",
        ]
      )
    } else {
      logger.error(
        "notification dead-lettered",
        metadata: ["notification.attempts": "\(failures)", "error": "\(error)"]
      )
    }
  }

  /// What went wrong, for operators: never a request's body or headers.
  static func describe(_ error: any Error) -> String {
    switch error {
    case let error as DeliveryError: return error.description
    case let error as HTTPClientError: return "HTTP client: \(error)"
    case let error as ConfigurationError: return error.description
    default: return String("\(error)".prefix(500))
    }
  }
}
