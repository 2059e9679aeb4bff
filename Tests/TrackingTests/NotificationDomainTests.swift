import Foundation
import Testing
import Tracking

@Suite("Notifications: which events tell, when, and what they say")
struct NotificationDomainTests {
  static func at(_ iso: String) -> Timestamp {
    // The tests write valid times.
    let date = ISO8601DateFormatter().date(from: iso)!
    return Timestamp(microseconds: Int64(date.timeIntervalSince1970 * 1_000_000))
  }

  static func shipment(
    channel: NotificationChannel,
    kinds: [EventKind],
    details: [Int: EventDetails] = [:]
  ) throws -> Shipment {
    var shipment = try Fixture.draft().shipment(
      number: TrackingNumber(serviceIndicator: Fixture.indicator, serial: 5)
    )
    shipment.notificationChannel = channel
    for kind in kinds {
      var event = try Fixture.event(kind, after: shipment, details: details[shipment.version + 1])
      event.occurredAt = Self.at("2026-03-02T09:15:00+07:00")
      shipment.events.append(event)
      shipment.version = event.sequence
      shipment.state = event.toState
    }
    return shipment
  }

  static func planner(subscriptions: [WebhookSubscription] = []) -> NotificationPlanner {
    NotificationPlanner(
      settings: NotificationSettingsHolder(
        NotificationSettings(channels: [.sms, .zalo], subscriptions: subscriptions)
      )
    )
  }

  @Test(
    "the events that tell the citizen: received, filed (once: acceptance or the slip), supplement, result ready, failed delivery, returned",
    arguments: [
      (EventKind.collected, NotificationKind?.some(.received)),
      (.agencyAccepted, .filed), (.appointmentReceived, .filed),
      (.supplementRequested, .supplementRequested), (.resultReady, .resultReady),
      (.deliveryFailed, .deliveryAttempt), (.returnedToAgency, .returned),
      (.registered, nil), (.scanned, nil), (.dispatched, nil), (.delivered, nil),
    ]
  )
  func kinds(event: EventKind, expected: NotificationKind?) throws {
    let shipment = try Self.shipment(channel: .sms, kinds: [])
    let made = ShipmentEvent(
      sequence: 2,
      kind: event,
      fromState: nil,
      toState: .collected,
      occurredAt: shipment.createdAt,
      recordedAt: shipment.createdAt,
      actor: Fixture.clerk,
      location: shipment.originPostOffice,
      note: nil
    )
    #expect(NotificationPlanner.kind(of: made, in: shipment) == expected)
  }

  @Test("after an electronic acceptance, the appointment slip tells nothing more")
  func filedOnce() throws {
    var shipment = try Self.shipment(channel: .sms, kinds: [])
    func add(_ kind: EventKind) {
      let event = ShipmentEvent(
        sequence: shipment.version + 1,
        kind: kind,
        fromState: nil,
        toState: .handedToAgency,
        occurredAt: shipment.createdAt,
        recordedAt: shipment.createdAt,
        actor: Fixture.clerk,
        location: shipment.originPostOffice,
        note: nil
      )
      shipment.events.append(event)
      shipment.version = event.sequence
    }
    add(.agencyAccepted)
    add(.appointmentReceived)
    #expect(NotificationPlanner.kind(of: shipment.events[1], in: shipment) == .filed)
    #expect(NotificationPlanner.kind(of: shipment.events[2], in: shipment) == nil)
  }

  @Test(
    "one message per notifying event for the chosen channel and each subscription that wants it; none without consent or after erasure"
  )
  func planning() throws {
    let subscriptions = [
      WebhookSubscription(id: "all"),
      WebhookSubscription(
        id: "other-agency",
        agencies: [try AgencyCode(validating: "000.00.15.H55")]
      ),
      WebhookSubscription(id: "results", kinds: [.resultReady]),
    ]
    let planner = Self.planner(subscriptions: subscriptions)
    let shipment = try Self.shipment(channel: .zalo, kinds: [.collected])
    let requests = planner.requests(for: [shipment.events[1]], of: shipment)
    #expect(requests.map(\.destination) == [.zalo, .webhook("all")])
    let number = shipment.trackingNumber.rawValue
    #expect(requests.map(\.id) == ["msg_\(number)_2_zalo", "msg_\(number)_2_wh-all"])
    let silent = try Self.shipment(channel: .none, kinds: [.collected])
    #expect(
      planner.requests(for: [silent.events[1]], of: silent).map(\.destination) == [.webhook("all")]
    )
    var erased = try Self.shipment(channel: .sms, kinds: [.collected])
    erased.personalDataErasedAt = erased.createdAt
    #expect(
      planner.requests(for: [erased.events[1]], of: erased).map(\.destination) == [.webhook("all")]
    )
    let registration = try Self.shipment(channel: .sms, kinds: [])
    #expect(planner.requests(for: registration.events, of: registration).isEmpty)
  }

  @Test("an SMS says what happened with the number and the page, in ASCII, without personal data")
  func smsText() throws {
    let shipment = try Self.shipment(
      channel: .sms,
      kinds: [.collected, .scanned],
      details: [:]
    )
    let content = try #require(
      NotificationContent(.received, sequence: 2, of: shipment, trackingPage: "https://t.vn/")
    )
    #expect(
      content.smsText
        == "VNPost: Buu dien da nhan ho so \(shipment.trackingNumber.rawValue) ngay 02/03/2026. Tra cuu: https://t.vn/"
    )
    let supplement = SupplementRequest(
      items: [SupplementItem(document: "Bản sao Căn cước công dân", reason: "mờ")],
      reason: "thiếu"
    )
    var asked = shipment
    asked.events[2].details = .supplement(supplement)
    let told = try #require(
      NotificationContent(.supplementRequested, sequence: 3, of: asked, trackingPage: "x")
    )
    #expect(told.smsText.contains("Ban sao Can cuoc cong dan"))
    #expect(told.znsParameters["giay_to"] == "Bản sao Căn cước công dân")
    for text in [content.smsText, told.smsText] {
      #expect(text.unicodeScalars.allSatisfy { $0.isASCII } && text.count <= 459)
      #expect(!text.contains("Nguyen") && !text.contains("0912"))
    }
    #expect(NotificationContent(.received, sequence: 9, of: shipment, trackingPage: "x") == nil)
  }

  @Test(
    "Vietnamese without diacritics, precomposed or decomposed",
    arguments: [
      ("Bưu điện Thái Nguyên", "Buu dien Thai Nguyen"), ("ĐẶNG THỊ ỨNG", "DANG THI UNG"),
      ("Tie\u{0302}\u{0301}ng Vie\u{0323}\u{0302}t", "Tieng Viet"), ("a\tb\nc", "a\tb\nc"),
    ]
  )
  func ascii(text: String, expected: String) {
    #expect(NotificationContent.ascii(text) == expected)
  }

  @Test(
    "quiet hours hold a message until they end, across midnight, in Vietnam time",
    arguments: [
      ("2026-03-02T22:30:00+07:00", "2026-03-03T07:00:00+07:00"),
      ("2026-03-03T06:59:00+07:00", "2026-03-03T07:00:00+07:00"),
      ("2026-03-02T21:00:00+07:00", "2026-03-03T07:00:00+07:00"),
      ("2026-03-03T00:00:00+07:00", "2026-03-03T07:00:00+07:00"),
    ]
  )
  func quiet(at time: String, until end: String) {
    #expect(QuietHours.smsDefault.end(holding: Self.at(time)) == Self.at(end))
  }

  @Test(
    "outside quiet hours nothing waits",
    arguments: [
      "2026-03-02T07:00:00+07:00", "2026-03-02T12:00:00+07:00", "2026-03-02T20:59:59+07:00",
    ]
  )
  func notQuiet(at time: String) throws {
    #expect(QuietHours.smsDefault.end(holding: Self.at(time)) == nil)
    #expect(
      try QuietHours(parsing: "13:00-14:00").end(holding: Self.at("2026-03-02T13:30:00+07:00"))
        == Self.at("2026-03-02T14:00:00+07:00")
    )
  }

  @Test(
    "quiet hours are parsed as HH:MM-HH:MM and refused otherwise",
    arguments: ["21-07", "25:00-07:00", "21:00", ""]
  )
  func quietParsing(text: String) {
    #expect(throws: InvalidValue.self) { try QuietHours(parsing: text) }
  }

  @Test("retries follow the schedule within the jitter, and the schedule's end dead-letters")
  func schedule() {
    var generator = SystemRandomNumberGenerator()
    let schedule = RetrySchedule.standardWebhooks
    let now = Self.at("2026-03-02T10:00:00+07:00")
    for (index, delay) in schedule.delays.enumerated() {
      for _ in 0 ..< 50 {
        let next = schedule.nextAttempt(afterFailures: index + 1, at: now, using: &generator)!
        let seconds = Double(now.duration(to: next).components.seconds)
        let planned = Double(delay.components.seconds)
        #expect(seconds >= planned * 0.8 - 1 && seconds <= planned * 1.2)
      }
    }
    #expect(schedule.nextAttempt(afterFailures: 8, at: now, using: &generator) == nil)
    #expect(schedule.budget == .seconds(99_305))
  }

  @Test("a token bucket lets a burst through, then one per interval")
  func bucket() {
    var bucket = TokenBucket(rate: 2, burst: 2)
    let t0 = Self.at("2026-03-02T10:00:00+07:00")
    #expect(bucket.take(now: t0) == nil)
    #expect(bucket.take(now: t0) == nil)
    #expect(bucket.take(now: t0) == .milliseconds(500))
    #expect(bucket.take(now: t0.advanced(by: .milliseconds(500))) == nil)
  }
}
