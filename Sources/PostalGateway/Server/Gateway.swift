import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import Persistence
import ServiceLifecycle
import Tracking
import UnixSignals

/// The running process: one `ServiceGroup` of services built from the configuration in small
/// pieces — configuration → stores → domain → listeners → services.
///
/// ``build(configuration:tls:logger:clock:partnerIdentities:gracefulShutdownSignals:)`` only
/// wires; ``run()`` serves until graceful shutdown. The group starts the background workers
/// first and the listeners last, and shuts down in reverse: the listeners stop taking calls and
/// drain, then the dispatcher finishes its deliveries, the monitor stops, and the signer signs
/// a last checkpoint. Tests build the same graph on port 0.
struct Gateway: Sendable {
  let configuration: GatewayConfiguration
  let domain: GatewayDomain
  let listeners: GatewayListeners
  let health: GatewayHealth
  let clock: any WallClock
  let logger: Logger
  let group: ServiceGroup
  /// The gateway's metrics (kept whether or not an address serves them).
  let metrics: GatewayMetrics
  /// The operator's metrics address, when configured.
  let metricsEndpoint: MetricsEndpoint?
  /// The citizens' web address, when configured.
  let webServer: WebServer<WebContext>?
  /// The oversight office's web address, when configured.
  let oversightWebServer: WebServer<OversightContext>?
  /// Closes the stores' connections once the group stopped.
  let closeStores: @Sendable () -> Void

  /// Wires the gateway.
  /// - Parameters:
  ///   - configuration: A validated configuration.
  ///   - tls: The listeners' certificates.
  ///   - logger: The root logger.
  ///   - clock: Wall time and sleeping, for everything that depends on time.
  ///   - partnerIdentities: How partner callers are identified (the certificate by default).
  ///   - gracefulShutdownSignals: The signals that stop it (none in tests).
  static func build(
    configuration: GatewayConfiguration,
    tls: TLSMaterial,
    logger: Logger,
    clock: any WallClock = SystemWallClock(),
    partnerIdentities: (any IdentityResolver)? = nil,
    gracefulShutdownSignals: [UnixSignal] = []
  ) async throws -> Gateway {
    try configuration.validate()
    let directory = DataDirectory(configuration: configuration)
    try directory.prepare()
    let metrics = GatewayMetrics()
    let backend = try await GatewayBackend.open(
      configuration: configuration,
      directory: directory,
      metrics: metrics,
      logger: logger
    )
    let stores = backend.stores
    // Refuse to start on a store that cannot write, rather than half-serving.
    try await stores.shipments.probeWrite(now: clock.now())
    let domain = try await GatewayDomain.build(
      configuration: configuration,
      directory: directory,
      stores: stores,
      keys: backend.keys,
      clientCAPEM: tls.clientCAPEM,
      clock: clock,
      election: backend.election,
      logger: logger
    )
    let health = GatewayListeners.health()
    let identities =
      partnerIdentities ?? CertificateIdentityResolver(trustDomain: configuration.trustDomain)
    let listeners = try GatewayListeners.build(
      domain,
      configuration: configuration,
      tls: tls,
      identities: identities,
      clock: clock,
      health: health,
      metrics: metrics,
      logger: logger
    )
    let metricsEndpoint = configuration.metrics.map {
      MetricsEndpoint(
        listener: $0,
        metrics: metrics,
        sampler: MetricsSampler(metrics: metrics, domain: domain, clock: clock, tls: tls),
        logger: logger.with("component", "metrics")
      )
    }
    let assets = try WebAssets.bundled()
    let webServer = try configuration.web.map { listener in
      let web = CitizenWeb(
        desk: domain.citizenDesk(clock: clock),
        verifierKey: domain.verifierKey,
        assets: assets,
        logger: logger.with("listener", "web")
      )
      return WebServer(
        name: "web",
        listener: listener,
        router: { web.router() },
        tls: listener.plaintext ? nil : try WebServer<WebContext>.serverTLS(tls),
        logger: logger.with("component", "web")
      )
    }
    let oversightWebServer = try configuration.oversightWeb.map { listener in
      let web = OversightWeb(
        charts: IndicatorCharts(
          indicators: domain.stores.indicators,
          sla: domain.sla,
          queue: CounterQueue(
            tickets: domain.stores.queueTickets,
            shipments: domain.stores.shipments
          )
        ),
        trustDomain: configuration.trustDomain,
        revocations: domain.revocations,
        assets: assets,
        clock: clock,
        logger: logger.with("listener", "oversight-web")
      )
      return WebServer(
        name: "oversight-web",
        listener: listener,
        router: { web.router() },
        tls: try WebServer<OversightContext>.serverTLS(tls, requiringClientsOf: tls.clientCAPEM),
        logger: logger.with("component", "oversight-web")
      )
    }
    let services = Self.services(
      domain,
      extraWorkers: backend.workers,
      listeners: listeners,
      configuration: configuration,
      health: health,
      clock: clock,
      logger: logger
    )
    let endpoint = metricsEndpoint.map {
      [ServiceGroupConfiguration.ServiceConfiguration(service: $0)]
    }
    let web =
      (webServer.map { [ServiceGroupConfiguration.ServiceConfiguration(service: $0)] } ?? [])
      + (oversightWebServer.map { [ServiceGroupConfiguration.ServiceConfiguration(service: $0)] }
        ?? [])
    var groupConfiguration = ServiceGroupConfiguration(
      // The metrics address first: it is up before the listeners and stays until they drained.
      services: (endpoint ?? []) + services + web,
      gracefulShutdownSignals: gracefulShutdownSignals,
      cancellationSignals: [],
      logger: logger.with("component", "service-group")
    )
    // A service that does not finish draining within 25 s is cancelled (systemd's stop timeout
    // is 30 s): a stuck stream or worker must not keep the process from exiting.
    groupConfiguration.maximumGracefulShutdownDuration = .seconds(25)
    groupConfiguration.maximumCancellationDuration = .seconds(4)
    let group = ServiceGroup(configuration: groupConfiguration)
    return Gateway(
      configuration: configuration,
      domain: domain,
      listeners: listeners,
      health: health,
      clock: clock,
      logger: logger,
      group: group,
      metrics: metrics,
      metricsEndpoint: metricsEndpoint,
      webServer: webServer,
      oversightWebServer: oversightWebServer,
      closeStores: backend.close
    )
  }

  /// The group's services, workers first and listeners last.
  private static func services(
    _ domain: GatewayDomain,
    extraWorkers: [any Service],
    listeners: GatewayListeners,
    configuration: GatewayConfiguration,
    health: GatewayHealth,
    clock: any WallClock,
    logger: Logger
  ) -> [ServiceGroupConfiguration.ServiceConfiguration] {
    let feed = domain.stores.feed
    let workers: [any Service] =
      [
        StoreProbe(
          stores: domain.stores,
          health: health,
          clock: clock,
          logger: logger.with("component", "store-probe")
        ),
        CheckpointSigner(
          checkpointer: domain.checkpointer,
          log: domain.custodyLog,
          feed: feed,
          clock: clock,
          logger: logger.with("component", "checkpoint-signer")
        ),
        SlaMonitor(
          store: domain.stores.sla,
          feed: feed,
          clock: clock,
          logger: logger.with("component", "sla-monitor")
        ),
        HandoffDispatcher(
          routes: domain.routes,
          store: domain.stores.handoffs,
          desk: domain.agencies,
          trustDomain: configuration.trustDomain,
          policy: HandoffDispatcher.Policy(configuration.handoffs),
          clock: clock,
          feed: feed,
          logger: logger.with("component", "handoff-dispatcher")
        ),
        NotificationDispatcher(
          store: domain.stores.notifications,
          shipments: domain.stores.shipments,
          channels: domain.notificationChannels,
          clock: clock,
          feed: feed,
          logger: logger.with("component", "notification-dispatcher")
        ),
        IdempotencyPruner(
          store: domain.stores.shipments,
          retention: .seconds(configuration.idempotencyRetentionDays * 86_400),
          interval: .seconds(3600),
          clock: clock,
          logger: logger.with("component", "idempotency-pruner")
        ),
        Reloader(domain: domain, clock: clock, logger: logger.with("component", "reloader")),
        RetentionSweeper(
          shipments: domain.shipments,
          store: domain.stores.shipments,
          offline: domain.stores.offline,
          blobs: domain.stores.blobs,
          policy: configuration.retention,
          actor: .operator(id: "spiffe://\(configuration.trustDomain)/service/retention"),
          interval: .seconds(3600),
          clock: clock,
          logger: logger.with("component", "retention-sweeper")
        ),
      ] + (domain.keyRotator.map { [$0] } ?? []) + extraWorkers
    let listenerServices: [any Service] = [
      ListenerService(
        name: "partner",
        server: listeners.partnerServer,
        transport: listeners.partnerTransport,
        health: health,
        feed: feed,
        logger: logger
      ),
      ListenerService(
        name: "public",
        server: listeners.publicServer,
        transport: listeners.publicTransport,
        health: health,
        feed: feed,
        logger: logger
      ),
    ]
    // A worker with nothing to do (no push routes, say) may return early; the gateway goes on.
    return workers.map { .init(service: $0, successTerminationBehavior: .ignore) }
      + listenerServices.map { .init(service: $0) }
  }

  /// Serves until graceful shutdown (a signal, or ``beginGracefulShutdown()``).
  func run() async throws {
    defer { self.closeStores() }
    try await self.group.run()
  }

  /// Stops taking calls, drains running ones, and stops the workers in turn.
  func beginGracefulShutdown() async {
    await self.group.triggerGracefulShutdown()
  }

  /// Reloads the data files and recomputes stored hops (what SIGHUP does).
  /// - Returns: The catalog version now in force.
  @discardableResult
  func reloadCatalog() throws -> String {
    try self.domain.reload(logger: self.logger)
  }

  /// Reloads the revocation list (what SIGHUP does first).
  @discardableResult
  func reloadRevocations() throws -> Int64 {
    try self.domain.reloadRevocations(logger: self.logger)
  }

  /// The metrics address's port once bound, or `nil` when no metrics address is configured.
  func metricsPort() async -> Int? {
    guard let endpoint = self.metricsEndpoint else { return nil }
    return await endpoint.listeningPort()
  }

  /// The web address's port once bound, or `nil` when no web address is configured.
  func webPort() async -> Int? {
    guard let server = self.webServer else { return nil }
    return await server.listeningPort()
  }

  /// The oversight web address's port once bound, or `nil` when none is configured.
  func oversightWebPort() async -> Int? {
    guard let server = self.oversightWebServer else { return nil }
    return await server.listeningPort()
  }

  /// The procedure catalog in force.
  var catalog: CatalogHolder { self.domain.catalog }
  /// The working calendars in force.
  var calendar: CalendarHolder { self.domain.calendar }
  /// The SLA policy in force.
  var slaPolicy: SlaPolicyHolder { self.domain.slaPolicy }
  /// The custody log's verifier key.
  var verifierKey: String { self.domain.verifierKey }
  /// What commits publish.
  var feed: ChangeFeed { self.domain.stores.feed }
  /// Both listeners' transports.
  var partnerTransport: HTTP2ServerTransport.Posix { self.listeners.partnerTransport }
  var publicTransport: HTTP2ServerTransport.Posix { self.listeners.publicTransport }
}

extension Logger {
  /// A copy with one more metadata entry.
  func with(_ key: String, _ value: String) -> Logger {
    var copy = self
    copy[metadataKey: key] = "\(value)"
    return copy
  }
}
