import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Proto
import SwiftProtobuf
import Testing
import Tracking

@testable import PostalGateway

/// Notifications against real HTTP receivers in their own processes (an SMS provider over
/// HTTPS, a webhook subscriber verifying signatures with the `standardwebhooks` library), the
/// gateway on a manual clock that the tests move to each retry: exactly one message per event
/// for the citizen whatever the receiver's failures, signed webhooks, dead letters an operator
/// puts back, nothing without consent, nothing in quiet hours.
@Suite("Notifications end to end")
struct NotificationEndToEndTests {
  typealias OperatorClient = Postalgateway_V1_OperatorService.Client<HTTP2ClientTransport.Posix>

  /// The settings of an SMS provider at `port` (HTTPS, the test CA), no quiet hours unless
  /// given.
  static func sms(
    port: Int,
    quietHours: String? = ""
  ) throws
    -> GatewayConfiguration
    .Notifications.Sms
  {
    let directory = temporaryDirectory()
    let token = (directory as NSString).appendingPathComponent("sms-token")
    try "sms-token-123\n".write(toFile: token, atomically: true, encoding: .utf8)
    let ca = (directory as NSString).appendingPathComponent("sms-ca.pem")
    try TestPKI.shared.ca.certificatePEM.write(toFile: ca, atomically: true, encoding: .utf8)
    return .init(
      url: "https://127.0.0.1:\(port)/v1/messages",
      sender: "VNPOST",
      tokenFile: token,
      trustRoots: ca,
      quietHours: quietHours
    )
  }

  /// A webhook subscription at `port` whose secrets file holds `secrets`.
  static func webhook(
    port: Int,
    secrets: [String]
  ) throws
    -> GatewayConfiguration
    .Notifications.Webhook
  {
    let file = (temporaryDirectory() as NSString).appendingPathComponent("hook.secrets")
    try (["# rotated 2026-12"] + secrets).joined(separator: "\n").write(
      toFile: file,
      atomically: true,
      encoding: .utf8
    )
    return .init(id: "h55-portal", url: "http://127.0.0.1:\(port)/hooks/postal", secretsFile: file)
  }

  static let newSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
  static let oldSecret = "whsec_" + Data(repeating: 7, count: 32).base64EncodedString()

  /// Registers a pickup (with the citizen's channel) and records its collection, which tells
  /// the citizen the post received the dossier.
  static func received(
    on gateway: RunningGateway,
    channel: Postalgateway_V1_NotificationChannel
  ) async throws -> (number: String, code: String) {
    try await gateway.withPartnerClient(TestPKI.shared.staff) { counter in
      var pickup = samplePickup()
      pickup.notificationChannel = channel
      let registered = try await counter.registerPickup(pickup)
      let number = registered.shipment.trackingNumber
      _ = try await counter.recordCollection(collectionRequest(number))
      return (number, registered.verificationCode)
    }
  }

  func withOperator<T: Sendable>(
    _ gateway: RunningGateway,
    _ body: (OperatorClient) async throws -> T
  ) async throws -> T {
    try await gateway.withClient(port: gateway.partnerPort, credential: HandoffPKI.shared.operator)
    {
      try await body(OperatorClient(wrapping: $0))
    }
  }

  @Test(
    "an SMS provider that fails twice then takes the message: the citizen gets exactly one SMS, the same message id every attempt, retried on the schedule"
  )
  func smsRetriedUntilTaken() async throws {
    let receiver = try NotificationReceiver(
      mode: "sms",
      arguments: ["--fail-first", "2"],
      tls: true
    )
    defer { receiver.stop() }
    let clock = TestClock("2026-03-02T10:00:00+07:00")
    let sms = try Self.sms(port: receiver.port)
    try await withTestGateway(clock: clock) {
      $0.notifications = .init(sms: sms, retrySeconds: [5, 300, 1800], retryJitter: 0.2)
    } _: { gateway in
      let (number, _) = try await Self.received(on: gateway, channel: .sms)
      var attempts: [OutboundNotification] = []
      for failures in 1 ... 2 {
        let message = try await gateway.eventually {
          try await gateway.notifications(of: number).first { $0.attempts == failures }
        }
        #expect(message.status == .pending)
        #expect(message.lastError?.contains("HTTP 503") == true)
        // On the schedule: 5 s, then 300 s after the failure, ±20%.
        let delay = Double(
          message.lastAttemptAt!.duration(to: message.nextAttemptAt).components.seconds
        )
        let planned = failures == 1 ? 5.0 : 300.0
        #expect(delay >= planned * 0.8 - 1 && delay <= planned * 1.2 + 1)
        attempts.append(message)
        clock.manual.set(message.nextAttemptAt)
      }
      let sent = try await gateway.eventually {
        try await gateway.notifications(of: number).first { $0.status == .sent }
      }
      #expect(sent.attempts == 3)
      #expect(sent.kind == .received)
      #expect(Set(attempts.map(\.id) + [sent.id]).count == 1)

      let records = try receiver.records()
      #expect(records.count == 3)
      #expect(records.map(\.status) == [503, 503, 202])
      #expect(Set(records.compactMap(\.id)) == [sent.id])
      #expect(records.filter(\.new).count == 1, "the citizen gets one message")
      let body = try #require(records.last?.body)
      #expect(body["to"]?.string == "+84912345678")
      #expect(body["from"]?.string == "VNPOST")
      #expect(records.last?.headers["authorization"] == "Bearer sms-token-123")
      let text = try #require(body["text"]?.string)
      #expect(text.contains(number))
      #expect(text.contains("Buu dien da nhan ho so"))
      let ascii = text.unicodeScalars.allSatisfy { $0.isASCII }
      #expect(ascii)
      #expect(!text.contains("Nguyen") && !text.contains("0912"), "no name, no phone in the text")
    }
  }

  @Test(
    "a subscribed system's webhook is signed as Standard Webhooks says and verifies with the standardwebhooks library, also while secrets rotate; it carries no applicant data"
  )
  func webhooksVerifyWithTheLibrary() async throws {
    let receiver = try NotificationReceiver(
      mode: "webhook",
      arguments: ["--secret", Self.newSecret]
    )
    defer { receiver.stop() }
    // The receiver's library refuses a timestamp more than 5 minutes from its own clock.
    let clock = TestClock(ISO8601DateFormatter().string(from: Date()))
    let hook = try Self.webhook(port: receiver.port, secrets: [Self.oldSecret, Self.newSecret])
    try await withTestGateway(clock: clock) {
      $0.notifications = .init(trackingPage: "https://tracuu.example.vn/", webhooks: [hook])
    } _: { gateway in
      let (number, _) = try await Self.received(on: gateway, channel: .unspecified)
      let sent = try await gateway.eventually {
        try await gateway.notifications(of: number).first { $0.status == .sent }
      }
      #expect(sent.destination == .webhook("h55-portal"))
      let record = try #require(try receiver.records().first)
      #expect(record.verified == true)
      #expect(record.headers["webhook-id"] == sent.id)
      #expect(record.headers["webhook-signature"]?.split(separator: " ").count == 2)
      let body = try #require(record.body)
      #expect(body["type"]?.string == "dossier.received")
      #expect(body["data"]?["tracking_number"]?.string == number)
      #expect(body["data"]?["tracking_page"]?.string == "https://tracuu.example.vn/")
      let raw = String(describing: body)
      #expect(!raw.contains("Nguy") && !raw.contains("912345678") && !raw.contains("019084"))
    }
  }

  @Test(
    "a receiver down for longer than the retry budget: the message is dead-lettered, listed, and sent with its id once an operator retries it"
  )
  func deadLetterRetriedByAnOperator() async throws {
    let hold = try NotificationReceiver.holdPort()
    defer { hold.release() }
    let port = hold.port
    let clock = TestClock("2026-03-02T10:00:00+07:00")
    let hook = try Self.webhook(port: port, secrets: [Self.newSecret])
    try await withTestGateway(clock: clock) {
      $0.notifications = .init(
        webhooks: [hook],
        retrySeconds: [5, 60],
        retryJitter: 0.2,
        attemptTimeoutMilliseconds: 1000
      )
    } _: { gateway in
      let (number, _) = try await Self.received(on: gateway, channel: .unspecified)
      for failures in 1 ... 2 {
        let message = try await gateway.eventually {
          try await gateway.notifications(of: number).first { $0.attempts == failures }
        }
        clock.manual.set(message.nextAttemptAt)
      }
      let dead = try await gateway.eventually {
        try await gateway.notifications(of: number).first { $0.status == .dead }
      }
      #expect(dead.attempts == 3)
      try await self.withOperator(gateway) { operators in
        let summary = try await operators.getNotificationSummary(.init())
        let webhooks = try #require(summary.destinations.first { $0.destination == .webhook })
        #expect(webhooks.dead == 1 && webhooks.subscription == "h55-portal")
        #expect(!webhooks.lastError.isEmpty)
        let listed = try await operators.listNotifications(.with { $0.status = .dead })
        #expect(listed.notifications.map(\.messageID) == [dead.id])
        let again = await rpcError {
          _ = try await operators.retryNotification(.with { $0.messageID = "msg_unknown" })
        }
        #expect(again?.code == .notFound)
      }
      // The subscriber is back; the operator puts the message back in the queue.
      let receiver = try NotificationReceiver(
        mode: "webhook",
        port: port,
        arguments: ["--secret", Self.newSecret]
      )
      defer { receiver.stop() }
      // The library checks the timestamp against its own clock.
      clock.manual.set(TestClock.parse(ISO8601DateFormatter().string(from: Date())))
      try await self.withOperator(gateway) { operators in
        let retried = try await operators.retryNotification(.with { $0.messageID = dead.id })
        #expect(retried.status == .pending && retried.attempts == 0)
        let twice = await rpcError {
          _ = try await operators.retryNotification(.with { $0.messageID = dead.id })
        }
        #expect(twice?.code == .failedPrecondition)
      }
      let sent = try await gateway.eventually {
        try await gateway.notifications(of: number).first { $0.status == .sent }
      }
      #expect(sent.id == dead.id)
      let records = try receiver.records()
      #expect(records.count == 1 && records[0].id == dead.id && records[0].verified == true)
    }
  }

  @Test(
    "Zalo: a ZNS template message with the kind's template and parameters; an answer with a ZNS error code is a failure, retried"
  )
  func zaloTemplateMessages() async throws {
    let receiver = try NotificationReceiver(mode: "zalo", arguments: ["--fail-first", "1"])
    defer { receiver.stop() }
    let clock = TestClock("2026-03-02T10:00:00+07:00")
    let templates = Dictionary(
      uniqueKeysWithValues: NotificationKind.allCases.enumerated().map {
        ($1.rawValue, "30100\($0)")
      }
    )
    let token = (temporaryDirectory() as NSString).appendingPathComponent("zalo-token")
    try "zalo-oa-token".write(toFile: token, atomically: true, encoding: .utf8)
    try await withTestGateway(clock: clock) {
      $0.notifications = .init(
        trackingPage: "https://tracuu.example.vn/",
        zalo: .init(
          url: "http://127.0.0.1:\(receiver.port)/message/template",
          accessTokenFile: token,
          templates: templates
        ),
        retrySeconds: [5],
        retryJitter: 0.2
      )
    } _: { gateway in
      let (number, _) = try await Self.received(on: gateway, channel: .zalo)
      let failed = try await gateway.eventually {
        try await gateway.notifications(of: number).first { $0.attempts == 1 }
      }
      #expect(failed.lastError?.contains("ZNS error -124") == true)
      clock.manual.set(failed.nextAttemptAt)
      let sent = try await gateway.eventually {
        try await gateway.notifications(of: number).first { $0.status == .sent }
      }
      let records = try receiver.records()
      #expect(records.count == 2 && records.allSatisfy { $0.id == sent.id })
      let body = try #require(records.last?.body)
      #expect(body["phone"]?.string == "84912345678")
      #expect(records.last?.headers["access_token"] == "zalo-oa-token")
      #expect(body["template_id"]?.string == templates["RECEIVED"])
      #expect(body["template_data"]?["ma_ho_so"]?.string == number)
      #expect(body["template_data"]?["trang_thai"]?.string == "Bưu điện đã nhận hồ sơ")
      #expect(body["template_data"]?["ngay"]?.string == "02/03/2026")
      #expect(body["template_data"]?["link"]?.string == "https://tracuu.example.vn/")
    }
  }

  @Test("a citizen who gave no consent gets no message; one who did gets it")
  func nothingWithoutConsent() async throws {
    let receiver = try NotificationReceiver(mode: "sms", tls: true)
    defer { receiver.stop() }
    let sms = try Self.sms(port: receiver.port)
    try await withTestGateway {
      $0.notifications = .init(sms: sms)
    } _: { gateway in
      let (number, code) = try await Self.received(on: gateway, channel: .unspecified)
      // The registration and the collection committed: whatever they queued is in the outbox.
      #expect(try await gateway.notifications(of: number).isEmpty)
      let tracked = try await gateway.track(number, code: code)
      #expect(tracked.notificationChannel == .none)
      let (withConsent, _) = try await Self.received(on: gateway, channel: .sms)
      _ = try await gateway.eventually {
        try await gateway.notifications(of: withConsent).first { $0.status == .sent }
      }
      #expect(try receiver.records().compactMap(\.id).allSatisfy { $0.contains(withConsent) })
    }
  }

  @Test(
    "an SMS due in the quiet hours waits until 07:00 (Vietnam time) and goes then, on the manual clock"
  )
  func quietHoursHoldSmsUntilMorning() async throws {
    let receiver = try NotificationReceiver(mode: "sms", tls: true)
    defer { receiver.stop() }
    let clock = TestClock("2026-03-02T22:30:00+07:00")
    let sms = try Self.sms(port: receiver.port, quietHours: nil)  // the default, 21:00–07:00
    try await withTestGateway(clock: clock) {
      $0.notifications = .init(sms: sms)
    } _: { gateway in
      let (number, _) = try await Self.received(on: gateway, channel: .sms)
      let morning = TestClock.parse("2026-03-03T07:00:00+07:00")
      let held = try await gateway.eventually {
        try await gateway.notifications(of: number).first { $0.nextAttemptAt == morning }
      }
      #expect(held.status == .pending && held.attempts == 0)
      // Postponed instead of sent: the receiver has nothing, and the dispatcher sleeps until 07:00.
      #expect(try receiver.records().isEmpty)
      await clock.waitForSleeper(until: morning)
      clock.set("2026-03-03T06:59:00+07:00")
      #expect(try await gateway.notifications(of: number).first?.status == .pending)
      clock.set("2026-03-03T07:00:00+07:00")
      let sent = try await gateway.eventually {
        try await gateway.notifications(of: number).first { $0.status == .sent }
      }
      #expect(sent.sentAt == morning)
      #expect(try receiver.records().count == 1)
    }
  }

  @Test(
    "the citizen changes the channel with the code, staff change it at the counter, every choice is kept; unknown or unconfigured channels are refused naming the field"
  )
  func consentIsChangedAndKept() async throws {
    let receiver = try NotificationReceiver(mode: "sms", tls: true)
    defer { receiver.stop() }
    let sms = try Self.sms(port: receiver.port)
    try await withTestGateway {
      $0.notifications = .init(sms: sms)
    } _: { gateway in
      let noZalo = await rpcError {
        try await gateway.withPartnerClient(TestPKI.shared.staff) { counter in
          var pickup = samplePickup()
          pickup.notificationChannel = .zalo
          _ = try await counter.registerPickup(pickup)
        }
      }
      #expect(noZalo?.code == .invalidArgument)
      #expect(noZalo?.message.contains("notification_channel") == true)

      let (number, code) = try await Self.received(on: gateway, channel: .none)
      try await gateway.withCitizenClient { citizen in
        let consent = try await citizen.setNotificationChannel(
          .with {
            $0.trackingNumber = number
            $0.verificationCode = code
            $0.channel = .sms
          }
        )
        #expect(consent.channel == .sms && consent.changedBy == "CITIZEN")
        let wrong = await rpcError {
          _ = try await citizen.setNotificationChannel(
            .with {
              $0.trackingNumber = number
              $0.verificationCode = "AAAAA-AAAAA"
              $0.channel = .none
            }
          )
        }
        #expect(wrong?.code == .notFound)
        let unspecified = await rpcError {
          _ = try await citizen.setNotificationChannel(
            .with {
              $0.trackingNumber = number
              $0.verificationCode = code
            }
          )
        }
        #expect(unspecified?.code == .invalidArgument)
        #expect(unspecified?.message.contains("channel") == true)
      }
      let tracked = try await gateway.track(number, code: code)
      #expect(tracked.notificationChannel == .sms)
      try await gateway.withPartnerClient(TestPKI.shared.staff) { counter in
        let consent = try await counter.setNotificationChannel(
          .with {
            $0.trackingNumber = number
            $0.channel = .none
          }
        )
        #expect(consent.changedBy == "STAFF")
      }
      let history = try await gateway.stores.notifications.consents(
        of: try TrackingNumber(validating: number)
      )
      #expect(history.map(\.source) == [.registration, .citizen, .staff])
      #expect(history.map(\.channel) == [.none, .sms, .none])
      #expect(history[2].actor == RequestsFixture.staffID)
    }
  }
}

/// Fixed identities of the tests' callers.
enum RequestsFixture {
  static let staffID = "spiffe://\(TestPKI.trustDomain)/staff/250000/clerk-01"
}
