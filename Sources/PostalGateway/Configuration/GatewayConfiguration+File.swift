import Foundation
import Tracking

extension GatewayConfiguration {
  /// The JSON file format. Every key is optional; absent keys keep their defaults.
  ///
  /// ```json
  /// {
  ///   "dataDirectory": "/var/lib/postal-gateway",
  ///   "trustDomain": "vnpost.vn",
  ///   "serviceIndicator": "EA",
  ///   "partner": { "host": "0.0.0.0", "port": 7443 },
  ///   "public": { "host": "0.0.0.0", "port": 8443 },
  ///   "metrics": { "host": "127.0.0.1", "port": 9464 },
  ///   "tls": { "certificateChain": "server.pem", "privateKey": "server-key.pem",
  ///            "clientCA": "partners-ca.pem" },
  ///   "tracking": { "maximumFailures": 5, "maximumFailuresPerNumber": 30, "windowSeconds": 900,
  ///                 "slowIntervalSeconds": 10 },
  ///   "catalog": "/etc/postal-gateway/catalog.json",
  ///   "revocations": "/etc/postal-gateway/revocations.json",
  ///   "calendars": "/etc/postal-gateway/calendars",
  ///   "scans": { "maximumBytes": 52428800 },
  ///   "custody": { "origin": "vnpost.vn/custody", "keyFile": "/etc/postal-gateway/custody.key" },
  ///   "encryption": { "keyFile": "/etc/postal-gateway/kek.json" },
  ///   "retention": { "applicantDays": 1827, "deviceEventDays": 1827 },
  ///   "handoffs": { "routes": "/etc/postal-gateway/routes.json", "maximumAttempts": 10,
  ///                 "maximumAgeSeconds": 259200, "initialBackoffMilliseconds": 1000,
  ///                 "maximumBackoffMilliseconds": 300000, "attemptTimeoutMilliseconds": 10000,
  ///                 "maximumInFlightPerEndpoint": 4 },
  ///   "sla": { "policy": "/etc/postal-gateway/sla-policy.json" },
  ///   "idempotency": { "retentionDays": 30 },
  ///   "limits": { "maximumConcurrentCallsPerCaller": 64, "maximumRequestBytes": 4194304,
  ///               "maximumConnectionsPerListener": 1000, "maximumConcurrentStreamsPerConnection": 100,
  ///               "firstCallTimeoutSeconds": 30, "maximumIdleSeconds": 300 },
  ///   "web": { "host": "0.0.0.0", "port": 443 } or { "enabled": false },
  ///   "oversightWeb": { "host": "10.0.0.5", "port": 9443 },
  ///   "notifications": { … } (see ``GatewayConfiguration/Notifications``),
  ///   "logLevel": "info", "logFormat": "text" or "json",
  ///   "development": false
  /// }
  /// ```
  private struct File: Decodable {
    struct Listener: Decodable {
      var host: String?
      var port: Int?
      var plaintext: Bool?
    }
    struct Web: Decodable {
      var host: String?
      var port: Int?
      var plaintext: Bool?
      var enabled: Bool?
    }
    struct TLS: Decodable {
      var certificateChain: String
      var privateKey: String
      var clientCA: String
    }
    struct Tracking: Decodable {
      var maximumFailures: Int?
      var maximumFailuresPerNumber: Int?
      var windowSeconds: Int?
      var slowIntervalSeconds: Int?
    }
    struct Scans: Decodable {
      var maximumBytes: Int64?
    }
    struct Custody: Decodable {
      var origin: String?
      var keyFile: String?
    }
    struct Encryption: Decodable {
      var keyFile: String?
    }
    struct Retention: Decodable {
      var applicantDays: Int?
      var deviceEventDays: Int?
    }
    struct Handoffs: Decodable {
      var routes: String?
      var maximumAttempts: Int?
      var maximumAgeSeconds: Int?
      var initialBackoffMilliseconds: Int?
      var maximumBackoffMilliseconds: Int?
      var attemptTimeoutMilliseconds: Int?
      var maximumInFlightPerEndpoint: Int?
      var claimLeaseSeconds: Int?
    }
    struct Sla: Decodable {
      var policy: String?
    }
    struct Idempotency: Decodable {
      var retentionDays: Int?
    }
    struct Limits: Decodable {
      var maximumConcurrentCallsPerCaller: Int?
      var maximumRequestBytes: Int?
      var maximumConnectionsPerListener: Int?
      var maximumConcurrentStreamsPerConnection: Int?
      var firstCallTimeoutSeconds: Int?
      var maximumIdleSeconds: Int?
    }
    struct Storage: Decodable {
      var busyTimeoutMilliseconds: Int?
      var groupCommitWaitMicroseconds: Int?
      var groupCommitMaximumBatch: Int?
      var maximumConnections: Int?
    }
    /// The PostgreSQL database's URL.
    var database: String?
    var idempotency: Idempotency?
    var limits: Limits?
    var storage: Storage?
    var handoffs: Handoffs?
    var sla: Sla?
    var calendars: String?
    var adminUnits: String?
    var dataDirectory: String?
    var trustDomain: String?
    var serviceIndicator: String?
    var partner: Listener?
    var `public`: Listener?
    var metrics: Listener?
    var web: Web?
    var oversightWeb: Listener?
    var notifications: GatewayConfiguration.Notifications?
    var tls: TLS?
    var tracking: Tracking?
    var catalog: String?
    var revocations: String?
    var scans: Scans?
    var custody: Custody?
    var encryption: Encryption?
    var retention: Retention?
    var logLevel: String?
    var logFormat: String?
    var development: Bool?
  }

  /// Applies a JSON configuration file over the current values.
  /// - Parameter path: The file.
  /// - Throws: ``ConfigurationError`` when it cannot be read or parsed.
  mutating func apply(file path: String) throws {
    let file: File
    do {
      let data = try Data(contentsOf: URL(fileURLWithPath: path))
      file = try JSONDecoder().decode(File.self, from: data)
    } catch {
      throw ConfigurationError("configuration file \(path): \(FileProblem.describe(error))")
    }
    if let value = file.dataDirectory { self.dataDirectory = value }
    if let value = file.idempotency?.retentionDays { self.idempotencyRetentionDays = value }
    if let value = file.storage?.busyTimeoutMilliseconds {
      self.storage.busyTimeoutMilliseconds = value
    }
    if let value = file.storage?.groupCommitWaitMicroseconds {
      self.storage.groupCommitWaitMicroseconds = value
    }
    if let value = file.storage?.groupCommitMaximumBatch {
      self.storage.groupCommitMaximumBatch = value
    }
    if let value = file.storage?.maximumConnections { self.storage.maximumConnections = value }
    if let value = file.database { self.databaseURL = value }
    if let limits = file.limits {
      if let value = limits.maximumConcurrentCallsPerCaller {
        self.limits.maximumConcurrentCallsPerCaller = value
      }
      if let value = limits.maximumRequestBytes { self.limits.maximumRequestBytes = value }
      if let value = limits.maximumConnectionsPerListener {
        self.limits.maximumConnectionsPerListener = value
      }
      if let value = limits.maximumConcurrentStreamsPerConnection {
        self.limits.maximumConcurrentStreamsPerConnection = value
      }
      if let value = limits.firstCallTimeoutSeconds { self.limits.firstCallTimeoutSeconds = value }
      if let value = limits.maximumIdleSeconds { self.limits.maximumIdleSeconds = value }
    }
    if let value = file.trustDomain { self.trustDomain = value }
    if let value = file.serviceIndicator { self.serviceIndicator = value }
    if let listener = file.partner {
      if let host = listener.host { self.partner.host = host }
      if let port = listener.port { self.partner.port = port }
      if let plaintext = listener.plaintext { self.partner.plaintext = plaintext }
    }
    if let listener = file.public {
      if let host = listener.host { self.publicListener.host = host }
      if let port = listener.port { self.publicListener.port = port }
      if let plaintext = listener.plaintext { self.publicListener.plaintext = plaintext }
    }
    if let listener = file.metrics {
      guard let host = listener.host, let port = listener.port else {
        throw ConfigurationError("configuration file \(path): metrics needs host and port")
      }
      self.metrics = Listener(host: host, port: port, plaintext: listener.plaintext ?? false)
    }
    if let web = file.web {
      if web.enabled == false {
        self.web = nil
      } else {
        var listener = self.web ?? Listener(host: "127.0.0.1", port: 8444)
        if let host = web.host { listener.host = host }
        if let port = web.port { listener.port = port }
        if let plaintext = web.plaintext { listener.plaintext = plaintext }
        self.web = listener
      }
    }
    if let listener = file.oversightWeb {
      guard let host = listener.host, let port = listener.port else {
        throw ConfigurationError("configuration file \(path): oversightWeb needs host and port")
      }
      self.oversightWeb = Listener(host: host, port: port, plaintext: listener.plaintext ?? false)
    }
    if let notifications = file.notifications { self.notifications = notifications }
    if let tls = file.tls {
      self.tls = TLSFiles(
        certificateChain: tls.certificateChain,
        privateKey: tls.privateKey,
        clientCA: tls.clientCA
      )
    }
    if let tracking = file.tracking {
      if let value = tracking.maximumFailures { self.throttle.maximumFailures = value }
      if let value = tracking.windowSeconds { self.throttle.windowSeconds = value }
      if let value = tracking.maximumFailuresPerNumber {
        self.throttle.maximumFailuresPerNumber = value
      }
      if let value = tracking.slowIntervalSeconds { self.throttle.slowIntervalSeconds = value }
    }
    if let value = file.catalog { self.catalogPath = value }
    if let value = file.revocations { self.revocationsPath = value }
    if let value = file.calendars { self.calendarDirectory = value }
    if let value = file.adminUnits { self.adminUnitsDirectory = value }
    if let value = file.scans?.maximumBytes { self.maximumScanBytes = value }
    if let value = file.custody?.origin { self.custodyOriginOverride = value }
    if let value = file.custody?.keyFile { self.custodyKeyPath = value }
    if let value = file.encryption?.keyFile { self.keyEncryptionKeyPath = value }
    if let value = file.retention?.applicantDays { self.retention.applicantDays = value }
    if let value = file.retention?.deviceEventDays { self.retention.deviceEventDays = value }
    if let value = file.logLevel { self.logLevel = value }
    if let value = file.logFormat { self.logFormat = value }
    if let value = file.development { self.development = value }
    if let sla = file.sla {
      if let value = sla.policy { self.sla.policyFile = value }
    }
    if let h = file.handoffs {
      if let value = h.routes { self.handoffs.routesFile = value }
      if let value = h.maximumAttempts { self.handoffs.maximumAttempts = value }
      if let value = h.maximumAgeSeconds { self.handoffs.maximumAgeSeconds = value }
      if let value = h.initialBackoffMilliseconds {
        self.handoffs.initialBackoffMilliseconds = value
      }
      if let value = h.maximumBackoffMilliseconds {
        self.handoffs.maximumBackoffMilliseconds = value
      }
      if let value = h.attemptTimeoutMilliseconds {
        self.handoffs.attemptTimeoutMilliseconds = value
      }
      if let value = h.maximumInFlightPerEndpoint {
        self.handoffs.maximumInFlightPerEndpoint = value
      }
      if let value = h.claimLeaseSeconds { self.handoffs.claimLeaseSeconds = value }
    }
  }
}

extension GatewayConfiguration.Listener {
  /// Parses `host:port` or `[v6]:port`.
  init(address: String, plaintext: Bool = false) throws {
    let host: Substring
    let port: Substring
    if address.hasPrefix("["), let close = address.firstIndex(of: "]") {
      host = address[address.index(after: address.startIndex) ..< close]
      port = address[address.index(after: close)...].dropFirst()
    } else if let colon = address.lastIndex(of: ":") {
      host = address[..<colon]
      port = address[address.index(after: colon)...]
    } else {
      throw ConfigurationError("expected host:port, got \(address)")
    }
    guard let number = Int(port), !host.isEmpty else {
      throw ConfigurationError("expected host:port, got \(address)")
    }
    self.init(host: String(host), port: number, plaintext: plaintext)
  }
}
