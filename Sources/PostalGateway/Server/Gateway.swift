import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import Persistence
import Proto
import Tracking

/// The certificates the listeners use, as PEM text.
struct TLSMaterial: Sendable {
  /// The chain both listeners present, leaf first.
  var certificateChainPEM: String
  /// The leaf's private key.
  var privateKeyPEM: String
  /// The CA certificates that may sign partners' client certificates.
  var clientCAPEM: String

  /// Reads the configured files, or the development PKI (creating it if needed).
  /// - Returns: The material, and the development files created now (to tell the operator).
  static func load(
    for configuration: GatewayConfiguration
  ) throws -> (TLSMaterial, created: [String]) {
    if let files = configuration.tls {
      func read(_ path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
          throw ConfigurationError("cannot read \(path)")
        }
        return String(decoding: data, as: UTF8.self)
      }
      return (
        TLSMaterial(
          certificateChainPEM: try read(files.certificateChain),
          privateKeyPEM: try read(files.privateKey),
          clientCAPEM: try read(files.clientCA)
        ),
        []
      )
    }
    let pki = DevelopmentPKI(
      directory: configuration.pkiDirectory,
      trustDomain: configuration.trustDomain
    )
    let created = try pki.ensure(serverHosts: [
      configuration.partner.host, configuration.publicListener.host,
    ])
    // ensure() just made sure both exist.
    let server = try pki.read("server")!
    let ca = try pki.read("ca")!
    return (
      TLSMaterial(
        certificateChainPEM: server.certificatePEM + ca.certificatePEM,
        privateKeyPEM: server.privateKeyPEM,
        clientCAPEM: ca.certificatePEM
      ),
      created
    )
  }
}

/// The running process's object graph: the store, the domain service and two gRPC servers.
///
/// ``build(configuration:tls:logger:now:)`` only wires; ``run()`` serves until
/// ``beginGracefulShutdown()``. Tests build the same graph on port 0.
struct Gateway: Sendable {
  typealias Server = GRPCServer<HTTP2ServerTransport.Posix>

  /// The working calendar in force.
  let calendar: CalendarHolder
  /// The SLA policy in force, and where it is read from.
  let slaPolicy: SlaPolicyHolder
  let slaPolicyFile: String
  /// Raises at-risk and breach alerts.
  let slaMonitor: SlaMonitor
  /// Where its files are.
  let calendarDirectory: String
  /// Set when the gateway begins to stop; ends open handoff watches.
  let stopping: StopSignal
  /// Delivers push handoffs to agency endpoints.
  let dispatcher: HandoffDispatcher
  /// Signs the custody log's checkpoints.
  let checkpointer: Checkpointer
  /// The custody log.
  let custodyLog: CustodyLog
  /// The custody log's verifier key.
  let verifierKey: String
  let now: @Sendable () -> Timestamp
  let clock: any Clock<Duration>
  /// The procedure catalog in force.
  let catalog: CatalogHolder
  /// Where it is read from.
  let catalogFile: String

  /// Staff and agency systems, mutual TLS.
  let partnerTransport: HTTP2ServerTransport.Posix
  /// Citizens, TLS.
  let publicTransport: HTTP2ServerTransport.Posix
  let partnerServer: Server
  let publicServer: Server
  let partnerHealth: HealthStatus
  let publicHealth: HealthStatus
  let logger: Logger

  /// Wires the gateway.
  /// - Parameters:
  ///   - configuration: A validated configuration.
  ///   - tls: The listeners' certificates.
  ///   - logger: The root logger.
  ///   - now: The clock.
  ///   - partnerIdentities: How partner callers are identified (the certificate by default).
  static func build(
    configuration: GatewayConfiguration,
    tls: TLSMaterial,
    logger: Logger,
    now: @escaping @Sendable () -> Timestamp = SystemClock.now,
    partnerIdentities: (any IdentityResolver)? = nil,
    clock: any Clock<Duration> = ContinuousClock()
  ) async throws -> Gateway {
    try configuration.validate()
    let directory = DataDirectory(configuration: configuration)
    try directory.prepare()
    if configuration.catalogPath == nil {
      try CatalogFile.installSample(at: configuration.catalogFile)
    }
    let catalog = CatalogHolder(try CatalogFile.load(path: configuration.catalogFile))
    let calendarDirectory = try configuration.calendarDirectory ?? Self.bundledCalendars()
    let calendar = CalendarHolder(try CalendarFiles.load(directory: calendarDirectory))
    let slaPolicyFile = try configuration.sla.policyFile ?? Self.bundledSlaPolicy()
    let slaPolicy = SlaPolicyHolder(try SlaPolicyFile.load(path: slaPolicyFile).policy)
    let timekeeper = SlaTimekeeper(calendars: calendar, policies: slaPolicy, catalog: catalog)
    let store = try SQLiteShipmentStore(path: configuration.databasePath, timekeeper: timekeeper)
    let routes = try configuration.handoffs.routesFile.map(AgencyRoutesFile.load) ?? []
    let routeTable = Dictionary(uniqueKeysWithValues: routes.map { ($0.agency, $0) })
    let secret = try directory.verificationSecret()
    let shipments = ShipmentService(
      store: store,
      codes: VerificationCodeIssuer(secret: secret),
      throttle: TrackingThrottle(
        maximumFailures: configuration.throttle.maximumFailures,
        window: .seconds(configuration.throttle.windowSeconds)
      ),
      // validate() checked it.
      serviceIndicator: try ServiceIndicator(validating: configuration.serviceIndicator),
      catalog: catalog,
      calendar: calendar,
      personalData: PersonalDataHasher(secret: secret),
      handovers: HandoverVerifier(keys: store),
      routes: HandoffRoutes(routeTable.mapValues(\.mode)),
      timekeeper: timekeeper
    )
    let slaDesk = SlaDesk(shipments: shipments, store: store, timekeeper: timekeeper)
    let desk = AgencyDesk(shipments: shipments, handoffs: store)
    let stopping = StopSignal()
    let dispatcher = HandoffDispatcher(
      routes: routes,
      store: store,
      desk: desk,
      trustDomain: configuration.trustDomain,
      policy: HandoffDispatcher.Policy(configuration.handoffs),
      now: now,
      clock: clock,
      logger: logger.with("component", "handoff-dispatcher")
    )
    let blobs = try FileBlobStore(root: configuration.blobDirectory)
    let signer = try directory.custodySigner(
      origin: configuration.custodyOrigin,
      path: configuration.custodyKeyFile
    )
    let log = CustodyLog(origin: configuration.custodyOrigin, store: store)
    let checkpointer = Checkpointer(log: log, store: store, signer: signer)
    // The service refuses to start on a log that contradicts a checkpoint it signed.
    try await checkpointer.verifyHistory()

    let partnerIdentities =
      partnerIdentities ?? CertificateIdentityResolver(trustDomain: configuration.trustDomain)
    let chain = Self.pemBlocks(tls.certificateChainPEM).map {
      TLSConfig.CertificateSource.bytes(Array($0.utf8), format: .pem)
    }
    let key = TLSConfig.PrivateKeySource.bytes(Array(tls.privateKeyPEM.utf8), format: .pem)
    let clientCAs = Self.pemBlocks(tls.clientCAPEM).map {
      TLSConfig.CertificateSource.bytes(Array($0.utf8), format: .pem)
    }
    guard !chain.isEmpty, !clientCAs.isEmpty else {
      throw ConfigurationError(
        "the certificate chain and the client CA file must hold PEM certificates"
      )
    }

    let partnerTransport = HTTP2ServerTransport.Posix(
      address: try Self.socketAddress(configuration.partner),
      transportSecurity: .mTLS(certificateChain: chain, privateKey: key) {
        $0.trustRoots = .certificates(clientCAs)
        $0.clientCertificateVerification = .noHostnameVerification
      }
    )
    let publicTransport = HTTP2ServerTransport.Posix(
      address: try Self.socketAddress(configuration.publicListener),
      transportSecurity: configuration.publicListener.plaintext
        ? .plaintext : .tls(certificateChain: chain, privateKey: key)
    )

    let partnerHealth = HealthStatus(services: [
      Postalgateway_V1_CounterService.descriptor.fullyQualifiedService,
      Postalgateway_V1_AgencyService.descriptor.fullyQualifiedService,
      Postalgateway_V1_OperatorService.descriptor.fullyQualifiedService,
    ])
    let publicHealth = HealthStatus(services: [
      Postalgateway_V1_TrackingService.descriptor.fullyQualifiedService
    ])
    let policy = AuthorizationPolicy.standard

    let partnerServer = Server(
      transport: partnerTransport,
      services: [
        CounterService(
          shipments: shipments,
          catalog: catalog,
          blobs: blobs,
          offline: OfflineSync(store: store),
          identities: partnerIdentities,
          now: now,
          limits: .init(maximumBytes: configuration.maximumScanBytes),
          trustDomain: configuration.trustDomain,
          log: log,
          logger: logger.with("listener", "partner")
        ),
        SigningKeyService(
          handovers: HandoverVerifier(keys: store),
          identities: partnerIdentities,
          now: now,
          logger: logger.with("listener", "partner")
        ),
        AgencyService(
          desk: desk,
          handoffs: store,
          blobs: blobs,
          routes: routeTable,
          identities: partnerIdentities,
          now: now,
          clock: clock,
          pollInterval: .milliseconds(configuration.handoffs.pollIntervalMilliseconds),
          stopping: stopping,
          logger: logger.with("listener", "partner")
        ),
        OversightService(
          shipments: shipments,
          sla: slaDesk,
          now: now,
          clock: clock,
          pollInterval: .milliseconds(configuration.sla.watchPollMilliseconds),
          stopping: stopping,
          logger: logger.with("listener", "partner")
        ),
        OperatorService(
          handoffs: store,
          routes: routeTable,
          sla: slaDesk,
          now: now,
          logger: logger.with("listener", "partner")
        ),
        HealthService(status: partnerHealth),
      ],
      interceptors: [
        RequestLoggingInterceptor(logger: logger.with("listener", "partner")),
        AuthorizationInterceptor(
          resolver: partnerIdentities,
          policy: policy,
          logger: logger.with("listener", "partner")
        ),
      ]
    )
    let publicServer = Server(
      transport: publicTransport,
      services: [
        TrackingService(
          shipments: shipments,
          log: log,
          now: now,
          logger: logger.with("listener", "public")
        ),
        CustodyService(
          log: log,
          checkpointer: checkpointer,
          shipments: shipments,
          verifierKey: signer.verifierKey,
          now: now,
          clock: clock,
          logger: logger.with("listener", "public")
        ),
        HealthService(status: publicHealth),
      ],
      interceptors: [
        RequestLoggingInterceptor(logger: logger.with("listener", "public")),
        AuthorizationInterceptor(
          resolver: CitizenIdentityResolver(),
          policy: policy,
          logger: logger.with("listener", "public")
        ),
      ]
    )
    return Gateway(
      calendar: calendar,
      slaPolicy: slaPolicy,
      slaPolicyFile: slaPolicyFile,
      slaMonitor: SlaMonitor(
        store: store,
        interval: .milliseconds(configuration.sla.monitorIntervalMilliseconds),
        now: now,
        clock: clock,
        logger: logger.with("component", "sla-monitor")
      ),
      calendarDirectory: calendarDirectory,
      stopping: stopping,
      dispatcher: dispatcher,
      checkpointer: checkpointer,
      custodyLog: log,
      verifierKey: signer.verifierKey,
      now: now,
      clock: clock,
      catalog: catalog,
      catalogFile: configuration.catalogFile,
      partnerTransport: partnerTransport,
      publicTransport: publicTransport,
      partnerServer: partnerServer,
      publicServer: publicServer,
      partnerHealth: partnerHealth,
      publicHealth: publicHealth,
      logger: logger
    )
  }

  /// Serves both listeners until both have shut down. If one fails, the other is shut down too.
  func run() async throws {
    try await withThrowingTaskGroup(of: Void.self) { outer in
      // Checkpoints are signed while the listeners serve, and stop with them.
      outer.addTask { await self.signCheckpoints() }
      // So do handoffs to agency endpoints.
      outer.addTask { await self.dispatcher.run() }
      // And service-level alerts.
      outer.addTask { await self.slaMonitor.run() }
      try await withThrowingDiscardingTaskGroup { group in
        group.addTask {
          do { try await self.partnerServer.serve() } catch {
            self.beginGracefulShutdown()
            throw error
          }
        }
        group.addTask {
          do { try await self.publicServer.serve() } catch {
            self.beginGracefulShutdown()
            throw error
          }
        }
        group.addTask {
          let partner = try await self.partnerTransport.listeningAddress
          let citizen = try await self.publicTransport.listeningAddress
          self.logger.info(
            "listening",
            metadata: ["listener.partner": "\(partner)", "listener.public": "\(citizen)"]
          )
        }
      }
      outer.cancelAll()
    }
  }

  /// Signs a checkpoint each second when the log grew, until cancelled.
  private func signCheckpoints() async {
    while !Task.isCancelled {
      do {
        if let signed = try await self.checkpointer.signIfDue(now: self.now()) {
          self.logger.debug(
            "checkpoint signed",
            metadata: ["custody.size": "\(signed.checkpoint.size)"]
          )
        }
      } catch {
        // Shutting down cancels the store call: not a failure to report.
        if Task.isCancelled { return }
        self.logger.error(
          "checkpoint not signed",
          metadata: [
            "error": "\(error)",
            "error.cause": "\((error as? TrackingError)?.underlying ?? "")",
          ]
        )
      }
      do {
        try await self.clock.sleep(for: .seconds(1))
      } catch {
        return  // cancelled
      }
    }
  }

  /// Reads the catalog file again and puts it in force; on error the current one stays.
  /// - Returns: The version now in force.
  @discardableResult
  func reloadCatalog() throws -> String {
    let catalog = try CatalogFile.load(path: self.catalogFile)
    let calendar = try CalendarFiles.load(directory: self.calendarDirectory)
    let (policy, policyHash) = try SlaPolicyFile.load(path: self.slaPolicyFile)
    self.catalog.replace(with: catalog)
    self.calendar.replace(with: calendar)
    self.slaPolicy.replace(with: policy)
    self.logger.info(
      "SLA policy loaded",
      metadata: ["sla.policy.version": "\(policy.version)", "sla.policy.sha256": "\(policyHash)"]
    )
    self.logger.info(
      "working calendars loaded",
      metadata: [
        "calendar.versions": "\(calendar.publishedYears.map(\.version).joined(separator: ","))"
      ]
    )
    self.logger.info(
      "procedure catalog loaded",
      metadata: [
        "catalog.version": "\(catalog.version)", "catalog.sha256": "\(catalog.contentHash)",
      ]
    )
    return catalog.version
  }

  /// Stops accepting calls, ends health watches and lets running calls finish.
  func beginGracefulShutdown() {
    self.stopping.set()
    self.partnerHealth.shutDown()
    self.publicHealth.shutDown()
    self.partnerServer.beginGracefulShutdown()
    self.publicServer.beginGracefulShutdown()
  }

  /// Splits a PEM file into its certificates (NIOSSL loads one certificate per source).
  static func bundledCalendars() throws -> String {
    guard let directory = CalendarFiles.bundledDirectory else {
      throw ConfigurationError("the bundled calendars are missing; set `calendars`")
    }
    return directory
  }

  static func bundledSlaPolicy() throws -> String {
    guard let path = SlaPolicyFile.bundledPath else {
      throw ConfigurationError("the bundled SLA policy is missing; set `sla.policy`")
    }
    return path
  }

  static func pemBlocks(_ pem: String) -> [String] {
    let end = "-----END CERTIFICATE-----"
    var blocks: [String] = []
    var rest = Substring(pem)
    while let begin = rest.range(of: "-----BEGIN CERTIFICATE-----"),
      let finish = rest.range(of: end, range: begin.upperBound ..< rest.endIndex)
    {
      blocks.append(String(rest[begin.lowerBound ..< finish.upperBound]) + "\n")
      rest = rest[finish.upperBound...]
    }
    return blocks
  }

  private static func socketAddress(
    _ listener: GatewayConfiguration.Listener
  ) throws -> SocketAddress {
    let host = listener.host == "localhost" ? "127.0.0.1" : listener.host
    return host.contains(":")
      ? .ipv6(host: host, port: listener.port) : .ipv4(host: host, port: listener.port)
  }
}

extension Logger {
  /// A copy with one more metadata entry.
  func with(_ key: String, _ value: String) -> Logger {
    var copy = self
    copy[metadataKey: key] = "\(value)"
    return copy
  }
}
