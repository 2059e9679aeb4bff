import ArgumentParser
import Foundation
import Logging
import Tracking
import UnixSignals

/// `postal-gateway serve`: runs both listeners until SIGINT or SIGTERM.
struct Serve: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Run the gateway: partner listener (mutual TLS) and public listener (TLS)."
  )

  @Option(help: "JSON configuration file (flags override it).")
  var config: String?

  @Option(help: "Data directory (database, secrets, development PKI). Default ./postal-data.")
  var dataDir: String?

  @Option(
    help:
      "Serve from this PostgreSQL database (postgres://user@host:port/name; or $POSTAL_GATEWAY_DATABASE_URL; password also from $PGPASSWORD). Default: SQLite in the data directory."
  )
  var databaseURL: String?

  @Option(help: "Partner listener host:port. Default 127.0.0.1:7443.")
  var partnerAddress: String?

  @Option(help: "Public listener host:port. Default 127.0.0.1:8443.")
  var publicAddress: String?

  @Option(help: "Operator metrics host:port (plain HTTP, GET /metrics). Default: none.")
  var metricsAddress: String?

  @Option(help: "Citizens' web page host:port (HTTPS). Default 127.0.0.1:8444.")
  var webAddress: String?

  @Flag(help: "Serve no web page.")
  var noWeb = false

  @Option(help: "The oversight office's chart page host:port (mutual TLS). Default: none.")
  var oversightWebAddress: String?

  @Flag(help: "Serve the public listener without TLS (loopback addresses only).")
  var publicPlaintext = false

  @Option(help: "SPIFFE trust domain of partner certificates. Default postal-gateway.local.")
  var trustDomain: String?

  @Option(help: "S10 service indicator for new tracking numbers. Default EA.")
  var serviceIndicator: String?

  @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
  var logLevel: String?

  @Option(help: "Log format: text, or json (one JSON object per line).")
  var logFormat: String?

  @Option(help: "Agency routing file (JSON). SIGHUP reloads it.")
  var routes: String?

  @Flag(
    help:
      "Allow the development CA and the sample catalog on a non-loopback address (never in production)."
  )
  var development = false

  @Option(
    help:
      "Procedure catalog (JSON). Default <data-dir>/catalog.json (the bundled sample). SIGHUP reloads it."
  )
  var catalog: String?

  func run() async throws {
    var configuration = GatewayConfiguration()
    if let config { try configuration.apply(file: config) }
    if let dataDir { configuration.dataDirectory = dataDir }
    if let url = self.databaseURL
      ?? ProcessInfo.processInfo.environment["POSTAL_GATEWAY_DATABASE_URL"]
    {
      configuration.databaseURL = url
    }
    if let partnerAddress { configuration.partner = try .init(address: partnerAddress) }
    if let publicAddress { configuration.publicListener = try .init(address: publicAddress) }
    if let metricsAddress { configuration.metrics = try .init(address: metricsAddress) }
    if let webAddress { configuration.web = try .init(address: webAddress) }
    if self.noWeb { configuration.web = nil }
    if let oversightWebAddress {
      configuration.oversightWeb = try .init(address: oversightWebAddress)
    }
    if self.publicPlaintext { configuration.publicListener.plaintext = true }
    if let trustDomain { configuration.trustDomain = trustDomain }
    if let serviceIndicator { configuration.serviceIndicator = serviceIndicator }
    if let logLevel { configuration.logLevel = logLevel }
    if let catalog { configuration.catalogPath = catalog }
    if let logFormat { configuration.logFormat = logFormat }
    if let routes { configuration.handoffs.routesFile = routes }
    if self.development { configuration.development = true }
    try configuration.validate()
    guard let level = Logger.Level(rawValue: configuration.logLevel) else {
      throw ConfigurationError("unknown log level \(configuration.logLevel)")
    }

    let json = configuration.logFormat == "json"
    LoggingSystem.bootstrap { label in
      if json { return JSONLogHandler(label: label, logLevel: level) }
      var handler = StreamLogHandler.standardError(label: label)
      handler.logLevel = level
      return handler
    }
    let logger = Logger(label: "postal-gateway")
    if configuration.usesDevelopmentMaterial {
      let parts =
        (configuration.tls == nil ? ["the development CA in \(configuration.pkiDirectory)"] : [])
        + (configuration.catalogPath == nil ? ["the bundled sample catalog"] : [])
      logger.warning(
        "DEVELOPMENT MODE: serving with \(parts.joined(separator: " and ")), never for production; configure tls and catalog"
      )
    }

    let (tls, created) = try TLSMaterial.load(for: configuration)
    if !created.isEmpty {
      print(
        """
        Created a development PKI in \(configuration.pkiDirectory): \(created.joined(separator: ", ")).
          CA for clients:     \(configuration.pkiDirectory)/ca.pem
          staff client cert:  \(configuration.pkiDirectory)/staff.pem (+ staff-key.pem)
          agency client cert: \(configuration.pkiDirectory)/agency.pem (+ agency-key.pem)
          operator cert:      \(configuration.pkiDirectory)/operator.pem (+ operator-key.pem)
          oversight cert:     \(configuration.pkiDirectory)/oversight.pem (+ oversight-key.pem)
          gateway as client:  \(configuration.pkiDirectory)/gateway-client.pem (push handoffs)
        """
      )
    }
    let gateway = try await Gateway.build(
      configuration: configuration,
      tls: tls,
      logger: logger,
      gracefulShutdownSignals: [.sigterm, .sigint]
    )
    logger.info(
      "procedure catalog loaded",
      metadata: [
        "catalog.file": "\(configuration.catalogFile)",
        "catalog.version": "\(gateway.catalog.current.version)",
      ]
    )
    try await gateway.run()
  }
}
