import Foundation
import NIOSSL
import Tracking

/// The configured destinations with their credentials read and checked: what the dispatcher
/// sends through, and what the domain may queue for (``NotificationSettings``).
struct NotificationChannels: Sendable {
  var sms: SmsSender?
  var zalo: ZaloSender?
  var webhooks: [String: WebhookSender]
  /// The subscriptions' filters, by id.
  var subscriptions: [WebhookSubscription]
  var schedule: RetrySchedule
  var trackingPage: String
  var attemptTimeout: Duration
  var maximumInFlight: Int

  /// What the domain may queue for.
  var settings: NotificationSettings {
    var channels: Set<NotificationChannel> = []
    if self.sms != nil { channels.insert(.sms) }
    if self.zalo != nil { channels.insert(.zalo) }
    return NotificationSettings(channels: channels, subscriptions: self.subscriptions)
  }

  /// The sender of a destination, or `nil` when it is not configured (any more).
  func sender(for destination: NotificationDestination) -> (any NotificationSender)? {
    switch destination {
    case .sms: self.sms
    case .zalo: self.zalo
    case .webhook(let id): self.webhooks[id]
    }
  }

  /// Reads the credentials, secrets and CA files the configuration names, and checks them.
  /// - Throws: ``ConfigurationError`` naming the setting (never a credential's value).
  static func load(_ configuration: GatewayConfiguration) throws -> NotificationChannels {
    let settings = configuration.notifications
    let page =
      settings.trackingPage
      ?? configuration.web.map { "https://\($0.host):\($0.port)/" } ?? ""
    var schedule = RetrySchedule.standardWebhooks
    if let seconds = settings.retrySeconds {
      guard !seconds.isEmpty, seconds.allSatisfy({ $0 > 0 }) else {
        throw ConfigurationError("notifications.retrySeconds must be positive numbers")
      }
      schedule.delays = seconds.map { .seconds($0) }
    }
    if let jitter = settings.retryJitter {
      guard (0 ..< 1).contains(jitter) else {
        throw ConfigurationError("notifications.retryJitter must be at least 0 and below 1")
      }
      schedule.jitter = jitter
    }
    let timeout = settings.attemptTimeoutMilliseconds ?? 10_000
    let inFlight = settings.maximumInFlight ?? 8
    guard timeout > 0, inFlight > 0 else {
      throw ConfigurationError(
        "notifications.attemptTimeoutMilliseconds and maximumInFlight must be positive"
      )
    }
    var channels = NotificationChannels(
      sms: nil,
      zalo: nil,
      webhooks: [:],
      subscriptions: [],
      schedule: schedule,
      trackingPage: page,
      attemptTimeout: .milliseconds(timeout),
      maximumInFlight: inFlight
    )
    if let sms = settings.sms {
      channels.sms = SmsSender(
        url: try Self.url(sms.url, "notifications.sms.url"),
        sender: sms.sender ?? "VNPOST",
        token: try Self.credential(
          file: sms.tokenFile,
          environment: sms.tokenEnvironment,
          "notifications.sms.tokenFile or tokenEnvironment"
        ),
        tls: try Self.tls(sms.trustRoots, "notifications.sms.trustRoots"),
        quietHours: try Self.quietHours(sms.quietHours, default: .smsDefault, "sms"),
        limiter: RateLimiter(ratePerSecond: try Self.rate(sms.ratePerSecond, 10, "sms"))
      )
    }
    if let zalo = settings.zalo {
      var templates: [NotificationKind: String] = [:]
      for (name, id) in zalo.templates {
        guard let kind = NotificationKind(rawValue: name), !id.isEmpty else {
          throw ConfigurationError("notifications.zalo.templates: unknown kind \(name)")
        }
        templates[kind] = id
      }
      let missing = NotificationKind.allCases.filter { templates[$0] == nil }
      guard missing.isEmpty else {
        throw ConfigurationError(
          "notifications.zalo.templates lacks \(missing.map(\.rawValue).joined(separator: ", "))"
        )
      }
      channels.zalo = ZaloSender(
        url: try Self.url(zalo.url, "notifications.zalo.url"),
        accessToken: try Self.credential(
          file: zalo.accessTokenFile,
          environment: zalo.accessTokenEnvironment,
          "notifications.zalo.accessTokenFile or accessTokenEnvironment"
        ),
        templates: templates,
        tls: try Self.tls(zalo.trustRoots, "notifications.zalo.trustRoots"),
        quietHours: try Self.quietHours(zalo.quietHours, default: nil, "zalo"),
        limiter: RateLimiter(ratePerSecond: try Self.rate(zalo.ratePerSecond, 10, "zalo"))
      )
    }
    for (index, hook) in (settings.webhooks ?? []).enumerated() {
      let path = "notifications.webhooks[\(index)]"
      guard !hook.id.isEmpty, hook.id.count <= 40,
        hook.id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_".contains($0)) })
      else {
        throw ConfigurationError("\(path).id must be 1–40 letters, digits, '-' or '_'")
      }
      guard channels.webhooks[hook.id] == nil else {
        throw ConfigurationError("\(path).id \(hook.id) is used twice")
      }
      _ = try WebhookSender.secrets(in: hook.secretsFile)
      let agencies = try hook.agencies.map { codes in
        Set(
          try codes.map { code in
            do { return try AgencyCode(validating: code) } catch {
              throw ConfigurationError("\(path).agencies: \(code) is not an agency code")
            }
          }
        )
      }
      let kinds = try hook.kinds.map { names in
        Set(
          try names.map { name in
            guard let kind = NotificationKind(rawValue: name) else {
              throw ConfigurationError("\(path).kinds: unknown kind \(name)")
            }
            return kind
          }
        )
      }
      channels.webhooks[hook.id] = WebhookSender(
        id: hook.id,
        url: try Self.url(hook.url, "\(path).url"),
        secretsFile: hook.secretsFile,
        tls: try Self.tls(hook.trustRoots, "\(path).trustRoots"),
        limiter: RateLimiter(ratePerSecond: try Self.rate(hook.ratePerSecond, 50, path))
      )
      channels.subscriptions.append(
        WebhookSubscription(id: hook.id, agencies: agencies, kinds: kinds)
      )
    }
    return channels
  }

  /// HTTPS, or plain HTTP to a loopback address (a local relay).
  private static func url(_ text: String, _ setting: String) throws -> String {
    guard let url = URL(string: text), let host = url.host, !host.isEmpty,
      url.scheme == "https" || (url.scheme == "http" && GatewayConfiguration.isLoopback(host))
    else {
      throw ConfigurationError(
        "\(setting) must be an https:// address (http:// only to a loopback address)"
      )
    }
    return text
  }

  private static func credential(
    file: String?,
    environment: String?,
    _ setting: String
  ) throws -> String {
    if let file {
      guard let data = FileManager.default.contents(atPath: file) else {
        throw ConfigurationError("\(setting): cannot read \(file)")
      }
      let value = String(decoding: data, as: UTF8.self).trimmingCharacters(
        in: .whitespacesAndNewlines
      )
      guard !value.isEmpty else { throw ConfigurationError("\(setting): \(file) is empty") }
      return value
    }
    if let environment {
      guard let value = ProcessInfo.processInfo.environment[environment], !value.isEmpty else {
        throw ConfigurationError("\(setting): the environment variable \(environment) is not set")
      }
      return value
    }
    throw ConfigurationError("\(setting) is required")
  }

  private static func tls(_ path: String?, _ setting: String) throws -> TLSConfiguration? {
    guard let path else { return nil }
    guard let data = FileManager.default.contents(atPath: path) else {
      throw ConfigurationError("\(setting): cannot read \(path)")
    }
    let blocks = TLSMaterial.pemBlocks(String(decoding: data, as: UTF8.self))
    guard !blocks.isEmpty else {
      throw ConfigurationError("\(setting): \(path) holds no PEM certificate")
    }
    var configuration = TLSConfiguration.makeClientConfiguration()
    do {
      configuration.trustRoots = .certificates(
        try blocks.map { try NIOSSLCertificate(bytes: Array($0.utf8), format: .pem) }
      )
    } catch {
      throw ConfigurationError("\(setting): \(path) is not a PEM certificate file")
    }
    return configuration
  }

  private static func quietHours(
    _ text: String?,
    default fallback: QuietHours?,
    _ channel: String
  ) throws -> QuietHours? {
    guard let text else { return fallback }
    if text.isEmpty { return nil }
    do {
      return try QuietHours(parsing: text)
    } catch {
      throw ConfigurationError("notifications.\(channel).quietHours \(error)")
    }
  }

  private static func rate(
    _ value: Double?,
    _ fallback: Double,
    _ setting: String
  ) throws
    -> Double
  {
    let rate = value ?? fallback
    guard rate > 0 else { throw ConfigurationError("\(setting).ratePerSecond must be positive") }
    return rate
  }
}
