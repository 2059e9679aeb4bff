import Foundation
import Persistence
import PostgresStorage
import Tracking

/// Everything `serve` needs, with defaults that work on a fresh machine.
///
/// Loaded once at the entry point: defaults, then the JSON config file, then flags.
struct GatewayConfiguration: Sendable, Equatable {
  /// One TCP listener.
  struct Listener: Sendable, Equatable {
    /// The address to bind (an IPv4 or IPv6 literal, or `localhost`).
    var host: String
    /// The port; 0 picks a free one.
    var port: Int
    /// Serve without TLS. Only the public listener, and only on a loopback address.
    var plaintext: Bool = false
  }

  /// Certificate files for the listeners. When absent, `serve` creates a development PKI in the
  /// data directory.
  struct TLSFiles: Sendable, Equatable {
    /// PEM chain the listeners present (leaf first).
    var certificateChain: String
    /// PEM private key of the leaf.
    var privateKey: String
    /// PEM certificates that may sign partners' client certificates.
    var clientCA: String
  }

  /// Failed-attempt throttling for citizen tracking.
  struct Throttle: Sendable, Equatable {
    /// Failures allowed per number and client address within the window.
    var maximumFailures: Int = 5
    /// Failures per number, from all clients, after which the number is slowed.
    var maximumFailuresPerNumber: Int = 30
    /// The window, in seconds.
    var windowSeconds: Int = 900
    /// While a number is slowed: one attempt per this many seconds.
    var slowIntervalSeconds: Int = 10
  }

  /// Where the database, secrets and development PKI live.
  /// Electronic handoffs to agency systems: the routing file and the dispatcher's retry policy.
  struct Handoffs: Sendable, Equatable {
    /// The routing file (see ``AgencyRoutesFile``); `nil` means every dossier goes on paper.
    var routesFile: String?
    /// Failed attempts after which a handoff is dead-lettered.
    var maximumAttempts = 10
    /// Age after which a failing handoff is dead-lettered, whatever its attempts.
    var maximumAgeSeconds = 3 * 24 * 3600
    /// The first retry delay; it doubles per failure up to the maximum, with jitter.
    var initialBackoffMilliseconds = 1000
    var maximumBackoffMilliseconds = 300_000
    /// The deadline of one DeliverDossier call.
    var attemptTimeoutMilliseconds = 10_000
    /// Deliveries in flight at once per endpoint (over one HTTP/2 connection).
    var maximumInFlightPerEndpoint = 4
    /// On PostgreSQL: how long a replica's claim on a due handoff keeps the others away (longer
    /// than one delivery attempt); a replica that dies mid-delivery frees its claims after it.
    var claimLeaseSeconds = 120
  }

  /// Service levels: the policy file and the alert monitor.
  struct Sla: Sendable, Equatable {
    /// The SLA policy file (see ``SlaPolicyFile``); `nil` means the bundled one. Reloaded on
    /// SIGHUP.
    var policyFile: String?
  }

  /// What one caller or connection may hold (hostile and clumsy clients).
  struct Limits: Sendable, Equatable {
    /// Calls in flight per caller identity (partner SPIFFE ID, or citizen address).
    var maximumConcurrentCallsPerCaller = 64
    /// One request message, in bytes; larger is RESOURCE_EXHAUSTED.
    var maximumRequestBytes = 4 * 1024 * 1024
    /// Open connections per listener.
    var maximumConnectionsPerListener = 1000
    /// HTTP/2 streams at once on one connection.
    var maximumConcurrentStreamsPerConnection = 100
    /// A connection that opens no call within this many seconds is closed (slow clients).
    var firstCallTimeoutSeconds = 30
    /// A connection without calls for this many seconds is closed.
    var maximumIdleSeconds = 300
  }

  /// The embedded store.
  struct Storage: Sendable, Equatable {
    /// How long a write waits for a lock another process holds, before UNAVAILABLE.
    var busyTimeoutMilliseconds = 10_000
    /// How long the first write after a quiet spell waits for others to share its transaction
    /// and fsync (group commit). 0 (the default) never waits: writes arriving during a commit
    /// still share the next one; measured, a wait only slowed lonely writes (docs/performance.md).
    var groupCommitWaitMicroseconds = 0
    /// The most writes one transaction carries; 1 turns group commit off.
    var groupCommitMaximumBatch = 256
    /// On PostgreSQL: this replica's connections (keep replicas × this below the server's
    /// `max_connections`).
    var maximumConnections = 16

    /// The store's group commit settings.
    var groupCommit: GroupCommitSettings {
      GroupCommitSettings(
        maximumWait: .microseconds(self.groupCommitWaitMicroseconds),
        maximumBatch: self.groupCommitMaximumBatch
      )
    }
  }

  var limits = Limits()
  var storage = Storage()
  /// The shared PostgreSQL database replicas serve from (`postgres://user@host:port/name`,
  /// the password from the URL or `$PGPASSWORD`); `nil` serves from SQLite in the data
  /// directory.
  var databaseURL: String?
  var handoffs = Handoffs()
  var sla = Sla()
  /// How long a request id's result is remembered for retries, in days.
  var idempotencyRetentionDays = 30
  var dataDirectory = "./postal-data"
  /// The SPIFFE trust domain partners' certificates must name.
  var trustDomain = "postal-gateway.local"
  /// The S10 service indicator new tracking numbers are minted with.
  var serviceIndicator = "EA"
  /// Staff and agency systems: mutual TLS.
  var partner = Listener(host: "127.0.0.1", port: 7443)
  /// Citizens: server-authenticated TLS.
  var publicListener = Listener(host: "127.0.0.1", port: 8443)
  /// The operator's metrics address (plain HTTP, `GET /metrics`); `nil` serves no metrics.
  var metrics: Listener?
  /// Citizens' web page and JSON API (HTTPS with the public listener's certificate); `nil`
  /// serves none.
  var web: Listener? = Listener(host: "127.0.0.1", port: 8444)
  /// The oversight office's page (charts), mutual TLS with the oversight certificate; `nil`
  /// serves none.
  var oversightWeb: Listener?
  /// Messages to citizens and subscribed systems.
  var notifications = Notifications()
  /// The listeners' certificates; `nil` means the development PKI.
  var tls: TLSFiles?
  /// Citizen tracking throttle.
  var throttle = Throttle()
  /// The procedure catalog file; `nil` means `<data>/catalog.json`, created from the bundled
  /// Thái Nguyên sample on first start. Reloaded on SIGHUP.
  var catalogPath: String?
  /// A folder of working-calendar files (one JSON per year); `nil` means the bundled 2025–2027
  /// calendars. Reloaded on SIGHUP.
  var calendarDirectory: String?
  /// A folder with the administrative-units files; `nil` means the bundled map in force since
  /// 1/7/2025. Reloaded on SIGHUP.
  var adminUnitsDirectory: String?
  /// The largest scan accepted, in bytes.
  var maximumScanBytes: Int64 = 50 * 1024 * 1024
  /// The custody log's origin line (and its key's name); `nil` means `<trustDomain>/custody`.
  var custodyOriginOverride: String?
  /// The custody log's signing key file; `nil` means `<data>/secrets/custody.key`.
  var custodyKeyPath: String?
  /// The key-encryption key file (`encryption.keyFile`); `nil` means `<data-dir>-keys/kek.json`,
  /// beside the data directory and never inside it (a copied data directory or a backup must
  /// not carry the key that opens it).
  var keyEncryptionKeyPath: String?
  /// The key-encryption key file in use.
  var keyEncryptionKeyFile: String {
    self.keyEncryptionKeyPath ?? Self.keyFile(of: self.dataDirectory)
  }
  /// The default key file of a data directory: `<data-dir>-keys/kek.json`.
  static func keyFile(of dataDirectory: String) -> String {
    let data = (dataDirectory as NSString).standardizingPath
    return ((data + "-keys") as NSString).appendingPathComponent("kek.json")
  }
  /// How long personal data is kept, per record class.
  var retention = RetentionPolicy()

  /// The custody log's origin line.
  var custodyOrigin: String { self.custodyOriginOverride ?? "\(self.trustDomain)/custody" }
  /// The custody log's signing key file.
  var custodyKeyFile: String {
    self.custodyKeyPath ?? (self.secretsDirectory as NSString).appendingPathComponent("custody.key")
  }
  /// swift-log level: trace, debug, info, notice, warning, error, critical.
  var logLevel = "info"
  /// `text` (one human line per record) or `json` (one JSON object per line).
  var logFormat = "text"
  /// Allows the development CA and the sample catalog on a non-loopback address.
  var development = false

  /// What a production listener (not on loopback) still lacks: production certificates and a
  /// catalog of the province's own, unless ``development`` allows the development ones.
  var missingForProduction: [String] {
    guard !self.development,
      !(Self.isLoopback(self.partner.host) && Self.isLoopback(self.publicListener.host)
        && Self.isLoopback(self.web?.host ?? "127.0.0.1"))
    else { return [] }
    var missing: [String] = []
    if self.tls == nil {
      missing.append("tls (certificateChain, privateKey, clientCA: the production certificates)")
    }
    if self.catalogPath == nil { missing.append("catalog (the province's procedure catalog file)") }
    if self.keyEncryptionKeyPath == nil {
      missing.append("encryption.keyFile (the key-encryption key file, outside the data directory)")
    }
    return missing
  }

  /// Whether the gateway runs on the development CA or the sample catalog.
  var usesDevelopmentMaterial: Bool { self.tls == nil || self.catalogPath == nil }

  /// The SQLite file.
  var databasePath: String {
    (self.dataDirectory as NSString).appendingPathComponent("postal-gateway.sqlite")
  }
  /// The development PKI folder.
  var pkiDirectory: String { (self.dataDirectory as NSString).appendingPathComponent("pki") }
  /// The catalog file in use.
  var catalogFile: String {
    self.catalogPath ?? (self.dataDirectory as NSString).appendingPathComponent("catalog.json")
  }
  /// The revocation list file; `nil` means `<data>/revocations.json`. Absent means nothing
  /// is revoked. Reloaded on SIGHUP.
  var revocationsPath: String?
  /// The revocation list in use.
  var revocationsFile: String {
    self.revocationsPath
      ?? (self.dataDirectory as NSString).appendingPathComponent("revocations.json")
  }
  /// The scans folder.
  var blobDirectory: String { (self.dataDirectory as NSString).appendingPathComponent("scans") }
  /// The secrets folder.
  var secretsDirectory: String {
    (self.dataDirectory as NSString).appendingPathComponent("secrets")
  }

  /// Checks the invariants the rest of the process relies on.
  /// - Throws: ``ConfigurationError`` naming the first bad setting.
  func validate() throws {
    guard SPIFFEIdentity.isValidTrustDomain(self.trustDomain) else {
      throw ConfigurationError("trustDomain must be lower-case letters, digits, '-', '.' or '_'")
    }
    do {
      _ = try ServiceIndicator(validating: self.serviceIndicator)
    } catch {
      throw ConfigurationError("serviceIndicator must be two upper-case letters")
    }
    let listeners =
      [("partner", self.partner), ("public", self.publicListener)]
      + (self.metrics.map { [("metrics", $0)] } ?? []) + (self.web.map { [("web", $0)] } ?? [])
      + (self.oversightWeb.map { [("oversightWeb", $0)] } ?? [])
    for (name, listener) in listeners {
      guard !listener.host.isEmpty else { throw ConfigurationError("\(name).host is empty") }
      guard (0 ... 65535).contains(listener.port) else {
        throw ConfigurationError("\(name).port must be 0–65535")
      }
    }
    let data = (self.dataDirectory as NSString).standardizingPath + "/"
    if (self.keyEncryptionKeyFile as NSString).standardizingPath.hasPrefix(data) {
      throw ConfigurationError(
        "encryption.keyFile must be outside the data directory \(self.dataDirectory)"
      )
    }
    if self.partner.plaintext {
      throw ConfigurationError(
        "the partner listener always uses mutual TLS; remove partner.plaintext"
      )
    }
    if self.metrics?.plaintext == true {
      throw ConfigurationError("the metrics address is always plain HTTP; remove metrics.plaintext")
    }
    if self.publicListener.plaintext, !Self.isLoopback(self.publicListener.host) {
      throw ConfigurationError("public.plaintext is allowed only on a loopback address")
    }
    if self.oversightWeb?.plaintext == true {
      throw ConfigurationError(
        "the oversight page is always mutual TLS; remove oversightWeb.plaintext"
      )
    }
    if let web = self.web, web.plaintext, !Self.isLoopback(web.host) {
      throw ConfigurationError(
        "web.plaintext is allowed only on a loopback address (behind a proxy that terminates TLS)"
      )
    }
    guard self.throttle.maximumFailures > 0, self.throttle.windowSeconds > 0,
      self.throttle.maximumFailuresPerNumber > 0, self.throttle.slowIntervalSeconds > 0
    else {
      throw ConfigurationError("tracking throttle values must be positive")
    }
    let h = self.handoffs
    guard h.maximumAttempts > 0, h.maximumAgeSeconds > 0, h.initialBackoffMilliseconds > 0,
      h.maximumBackoffMilliseconds >= h.initialBackoffMilliseconds,
      h.attemptTimeoutMilliseconds > 0, h.maximumInFlightPerEndpoint > 0,
      h.claimLeaseSeconds * 1000 > h.attemptTimeoutMilliseconds
    else {
      throw ConfigurationError(
        "handoffs values must be positive, maximumBackoffMilliseconds ≥ initialBackoffMilliseconds, and claimLeaseSeconds longer than attemptTimeoutMilliseconds"
      )
    }
    let l = self.limits
    guard l.maximumConcurrentCallsPerCaller > 0, l.maximumRequestBytes > 0,
      l.maximumConnectionsPerListener > 0, l.maximumConcurrentStreamsPerConnection > 0,
      l.firstCallTimeoutSeconds > 0, l.maximumIdleSeconds > 0
    else {
      throw ConfigurationError("limits values must be positive")
    }
    guard (1 ... 1000).contains(self.storage.maximumConnections) else {
      throw ConfigurationError("storage.maximumConnections must be between 1 and 1000")
    }
    if let url = self.databaseURL {
      do {
        _ = try PostgresLocation(url: url)
      } catch {
        throw ConfigurationError("database: \(error)")
      }
    }
    guard self.storage.busyTimeoutMilliseconds >= 0 else {
      throw ConfigurationError("storage.busyTimeoutMilliseconds must not be negative")
    }
    guard (0 ... 1_000_000).contains(self.storage.groupCommitWaitMicroseconds) else {
      throw ConfigurationError("storage.groupCommitWaitMicroseconds must be between 0 and 1000000")
    }
    guard (1 ... 10_000).contains(self.storage.groupCommitMaximumBatch) else {
      throw ConfigurationError("storage.groupCommitMaximumBatch must be between 1 and 10000")
    }
    guard self.idempotencyRetentionDays > 0 else {
      throw ConfigurationError("idempotency.retentionDays must be positive")
    }
    guard self.maximumScanBytes > 0 else {
      throw ConfigurationError("scans.maximumBytes must be positive")
    }
    guard ["text", "json"].contains(self.logFormat) else {
      throw ConfigurationError("logFormat must be text or json")
    }
    let missing = self.missingForProduction
    guard missing.isEmpty else {
      throw ConfigurationError(
        "listening on \(self.partner.host) / \(self.publicListener.host), which is not loopback, needs "
          + missing.joined(separator: " and ")
          + " in the configuration file; the development CA and the sample catalog are for loopback or --development only"
      )
    }
  }

  /// Whether a host is a loopback address.
  static func isLoopback(_ host: String) -> Bool {
    host == "localhost" || host == "::1" || host.hasPrefix("127.")
  }
}

/// A configuration that cannot be used.
struct ConfigurationError: Error, CustomStringConvertible {
  var description: String
  init(_ description: String) { self.description = description }
}
