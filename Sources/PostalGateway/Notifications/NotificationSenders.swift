import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import Synchronization
import Tracking

/// One way messages leave: how a message becomes an HTTP request, and what answer means the
/// receiver took it. The dispatcher sends, retries and records; senders only translate.
protocol NotificationSender: Sendable {
  /// When nothing is sent (Vietnam time), if ever.
  var quietHours: QuietHours? { get }
  /// How fast messages may go.
  var limiter: RateLimiter { get }
  /// The request that delivers a message.
  /// - Parameters:
  ///   - message: The outbox row (its id is the idempotency key).
  ///   - content: What it says.
  ///   - phone: The citizen's number (for SMS and Zalo).
  ///   - now: The time of the attempt.
  func request(
    for message: OutboundNotification,
    content: NotificationContent,
    phone: MobileNumber?,
    now: Timestamp
  ) throws -> HTTPClientRequest
  /// Throws ``DeliveryError`` unless the answer means the receiver took the message.
  func accept(status: HTTPResponseStatus, body: ByteBuffer) throws
}

extension NotificationSender {
  /// A 2xx status is success; anything else is a failure worth retrying.
  func accept(status: HTTPResponseStatus, body: ByteBuffer) throws {
    guard (200 ..< 300).contains(status.code) else {
      throw DeliveryError("HTTP \(status.code) \(Self.excerpt(body))")
    }
  }

  /// A `POST` of a JSON body to the sender's address, with its CA.
  static func post(
    _ url: String,
    json body: Any,
    tls: TLSConfiguration?,
    headers: [(String, String)]
  ) throws -> HTTPClientRequest {
    var request = HTTPClientRequest(url: url)
    request.method = .POST
    request.tlsConfiguration = tls
    request.headers.add(name: "Content-Type", value: "application/json")
    for (name, value) in headers { request.headers.add(name: name, value: value) }
    request.body = .bytes(try JSONSerialization.data(withJSONObject: body, options: .sortedKeys))
    return request
  }

  static func excerpt(_ body: ByteBuffer) -> String {
    String(String(buffer: body).prefix(200)).replacingOccurrences(of: "\n", with: " ")
  }
}

/// At most `rate` messages a second on average, with bursts: real time (a provider's limit is
/// in seconds of the wall, whatever clock the gateway's deadlines run on).
final class RateLimiter: Sendable {
  private let bucket: Mutex<TokenBucket>
  private let origin = ContinuousClock.now

  init(ratePerSecond: Double) {
    self.bucket = Mutex(TokenBucket(rate: ratePerSecond, burst: max(1, ratePerSecond.rounded())))
  }

  /// Returns once a message may go.
  func acquire() async throws {
    while true {
      let elapsed = self.origin.duration(to: .now)
      let now = Timestamp(
        microseconds: elapsed.components.seconds * 1_000_000
          + elapsed.components.attoseconds / 1_000_000_000_000
      )
      guard let wait = self.bucket.withLock({ $0.take(now: now) }) else { return }
      try await Task.sleep(for: wait)
    }
  }
}

/// An SMS provider that takes JSON over HTTPS: `POST {url}` with
/// `{"message_id", "to": "+84…", "from", "text"}`, a bearer token, and the message id as
/// `Idempotency-Key` (a provider that got it already answers without sending again).
struct SmsSender: NotificationSender {
  let url: String
  let sender: String
  let token: String
  let tls: TLSConfiguration?
  let quietHours: QuietHours?
  let limiter: RateLimiter

  func request(
    for message: OutboundNotification,
    content: NotificationContent,
    phone: MobileNumber?,
    now: Timestamp
  ) throws -> HTTPClientRequest {
    guard let phone else { throw DeliveryError("no phone number") }
    let body: [String: String] = [
      "message_id": message.id, "to": phone.e164, "from": self.sender, "text": content.smsText,
    ]
    return try Self.post(
      self.url,
      json: body,
      tls: self.tls,
      headers: [("Authorization", "Bearer \(self.token)"), ("Idempotency-Key", message.id)]
    )
  }
}

/// Zalo Notification Service: a template message to a phone number, `POST {url}` with the
/// `access_token` header and `{"phone": "84…", "template_id", "template_data", "tracking_id"}`;
/// ZNS answers HTTP 200 with `"error": 0` when it took the message.
struct ZaloSender: NotificationSender {
  let url: String
  let accessToken: String
  let templates: [NotificationKind: String]
  let tls: TLSConfiguration?
  let quietHours: QuietHours?
  let limiter: RateLimiter

  func request(
    for message: OutboundNotification,
    content: NotificationContent,
    phone: MobileNumber?,
    now: Timestamp
  ) throws -> HTTPClientRequest {
    guard let phone else { throw DeliveryError("no phone number") }
    guard let template = self.templates[message.kind] else {
      throw DeliveryError("no ZNS template for \(message.kind.rawValue)")
    }
    let body: [String: Any] = [
      "phone": String(phone.e164.dropFirst()), "template_id": template,
      "template_data": content.znsParameters, "tracking_id": message.id,
    ]
    return try Self.post(
      self.url,
      json: body,
      tls: self.tls,
      headers: [("access_token", self.accessToken)]
    )
  }

  func accept(status: HTTPResponseStatus, body: ByteBuffer) throws {
    guard (200 ..< 300).contains(status.code) else {
      throw DeliveryError("HTTP \(status.code) \(Self.excerpt(body))")
    }
    let answer =
      try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any]
    guard let error = answer?["error"] as? Int else {
      throw DeliveryError("ZNS answered without an error code")
    }
    guard error == 0 else {
      throw DeliveryError("ZNS error \(error): \(answer?["message"] as? String ?? "")")
    }
  }
}

/// A subscribed system's webhook, signed as Standard Webhooks says: `webhook-id` (the message
/// id, the same on every attempt), `webhook-timestamp` (the attempt's Unix time) and
/// `webhook-signature`, `v1,` + base64 HMAC-SHA256 of `id.timestamp.body` under each secret of
/// the secrets file (read at each send, so a rotation takes effect at once).
struct WebhookSender: NotificationSender {
  let id: String
  let url: String
  let secretsFile: String
  let tls: TLSConfiguration?
  let limiter: RateLimiter
  var quietHours: QuietHours? { nil }

  func request(
    for message: OutboundNotification,
    content: NotificationContent,
    phone: MobileNumber?,
    now: Timestamp
  ) throws -> HTTPClientRequest {
    let secrets = try Self.secrets(in: self.secretsFile)
    let body = try Self.body(of: content, now: now)
    let timestamp = String(now.seconds)
    var request = HTTPClientRequest(url: self.url)
    request.method = .POST
    request.tlsConfiguration = self.tls
    request.headers.add(name: "Content-Type", value: "application/json")
    request.headers.add(name: "webhook-id", value: message.id)
    request.headers.add(name: "webhook-timestamp", value: timestamp)
    request.headers.add(
      name: "webhook-signature",
      value: secrets.map {
        Self.signature(id: message.id, timestamp: timestamp, body: body, secret: $0)
      }.joined(separator: " ")
    )
    request.body = .bytes(body)
    return request
  }

  /// `{"type", "timestamp", "data": {…}}`: the tracking number, the event, the agency and
  /// procedure, the appointment or the papers asked for, and the tracking page. No applicant
  /// data at all.
  static func body(of content: NotificationContent, now: Timestamp) throws -> Data {
    var data: [String: Any] = [
      "tracking_number": content.trackingNumber.rawValue,
      "event_sequence": content.eventSequence,
      "kind": content.kind.rawValue,
      "state": content.state.rawValue,
      "occurred_at": Self.rfc3339(content.occurredAt),
      "location": content.location.rawValue,
      "procedure_code": content.procedure.rawValue,
      "agency_code": content.agency.rawValue,
      "tracking_page": content.trackingPage,
    ]
    if let date = content.appointmentDate { data["appointment_date"] = date.description }
    if !content.supplementItems.isEmpty {
      data["supplement_items"] = content.supplementItems.map {
        ["document": $0.document, "reason": $0.reason]
      }
    }
    let payload: [String: Any] = [
      "type": content.webhookType, "timestamp": Self.rfc3339(now), "data": data,
    ]
    return try JSONSerialization.data(withJSONObject: payload, options: .sortedKeys)
  }

  /// The `v1,` signature of a message under one secret.
  static func signature(id: String, timestamp: String, body: Data, secret: [UInt8]) -> String {
    var signed = Data("\(id).\(timestamp).".utf8)
    signed.append(body)
    let mac = HMAC<SHA256>.authenticationCode(for: signed, using: SymmetricKey(data: secret))
    return "v1," + Data(mac).base64EncodedString()
  }

  /// The secrets of a secrets file: `whsec_` + base64 per line; blank lines and `#` comments
  /// are skipped.
  /// - Throws: ``ConfigurationError`` when it cannot be read, holds none, or a line is not a
  ///   secret (the line's number, never its text).
  static func secrets(in path: String) throws -> [[UInt8]] {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw ConfigurationError("webhook secrets file \(path) cannot be read")
    }
    var secrets: [[UInt8]] = []
    for (number, line) in String(decoding: data, as: UTF8.self).split(
      separator: "\n",
      omittingEmptySubsequences: false
    ).enumerated() {
      let text = line.trimmingCharacters(in: .whitespaces)
      if text.isEmpty || text.hasPrefix("#") { continue }
      guard text.hasPrefix("whsec_"), let key = Data(base64Encoded: String(text.dropFirst(6))),
        key.count >= 24
      else {
        throw ConfigurationError(
          "webhook secrets file \(path), line \(number + 1): not a whsec_ secret of 24 bytes or more"
        )
      }
      secrets.append(Array(key))
    }
    guard !secrets.isEmpty else {
      throw ConfigurationError("webhook secrets file \(path) holds no secret")
    }
    return secrets
  }

  static func rfc3339(_ time: Timestamp) -> String {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime]
    return formatter.string(
      from: Date(timeIntervalSince1970: Double(time.microseconds) / 1_000_000)
    )
  }
}
