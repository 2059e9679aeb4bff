import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import Proto
import Tracking

/// The two gRPC listeners and the services they carry: the partner listener (mutual TLS: staff,
/// agencies, operators, the oversight office) and the public one (TLS: citizens).
struct GatewayListeners: Sendable {
  typealias Server = GRPCServer<HTTP2ServerTransport.Posix>

  let partnerTransport: HTTP2ServerTransport.Posix
  let publicTransport: HTTP2ServerTransport.Posix
  let partnerServer: Server
  let publicServer: Server

  /// The services of the partner listener, with callers identified by `identities` (the
  /// certificate on the real listener; an injected identity over the in-process transport).
  static func partnerServices(
    _ domain: GatewayDomain,
    configuration: GatewayConfiguration,
    identities: any IdentityResolver,
    clock: any WallClock,
    health: HealthStatus,
    logger: Logger
  ) -> [any RegistrableRPCService] {
    let logger = logger.with("listener", "partner")
    let routes = domain.routes
    return [
      CounterService(
        shipments: domain.shipments,
        catalog: domain.catalog,
        blobs: domain.stores.blobs,
        audit: domain.audit,
        offline: domain.offline,
        queue: CounterQueue(
          tickets: domain.stores.queueTickets,
          shipments: domain.stores.shipments
        ),
        identities: identities,
        clock: clock,
        limits: .init(maximumBytes: configuration.maximumScanBytes),
        trustDomain: configuration.trustDomain,
        log: domain.custodyLog,
        logger: logger
      ),
      SigningKeyService(
        handovers: domain.handovers,
        identities: identities,
        clock: clock,
        logger: logger
      ),
      AgencyService(
        desk: domain.agencies,
        handoffs: domain.stores.handoffs,
        blobs: domain.stores.blobs,
        audit: domain.audit,
        routes: routes,
        identities: identities,
        clock: clock,
        feed: domain.stores.feed,
        logger: logger
      ),
      OversightService(
        shipments: domain.shipments,
        sla: domain.sla,
        audit: domain.audit,
        ratings: domain.ratings,
        indicators: domain.stores.indicators,
        queue: CounterQueue(
          tickets: domain.stores.queueTickets,
          shipments: domain.stores.shipments
        ),
        policy: domain.slaPolicy,
        map: domain.map,
        identities: identities,
        clock: clock,
        feed: domain.stores.feed,
        logger: logger
      ),
      OperatorService(
        handoffs: domain.stores.handoffs,
        routes: routes,
        sla: domain.sla,
        shipments: domain.shipments,
        blobs: domain.stores.blobs,
        keyRotator: domain.keyRotator,
        notifications: domain.stores.notifications,
        identities: identities,
        clock: clock,
        logger: logger
      ),
      HealthService(status: health),
    ]
      + ReflectionServiceV1Alpha.pair(serving: [
        Postalgateway_V1_CounterService.descriptor,
        Postalgateway_V1_SigningKeyService.descriptor,
        Postalgateway_V1_AgencyService.descriptor,
        Postalgateway_V1_OversightService.descriptor,
        Postalgateway_V1_OperatorService.descriptor,
        Grpc_Health_V1_Health.descriptor,
      ])
  }

  /// The interceptors of the partner listener.
  static func partnerInterceptors(
    identities: any IdentityResolver,
    revocations: RevocationHolder,
    limits: GatewayConfiguration.Limits,
    counter: CallCounter,
    metrics: GatewayMetrics,
    logger: Logger
  ) -> [any ServerInterceptor] {
    let logger = logger.with("listener", "partner")
    return [
      MetricsInterceptor(listener: "partner", metrics: metrics),
      RequestLoggingInterceptor(logger: logger),
      AuthorizationInterceptor(resolver: identities, policy: .standard, logger: logger),
      RevocationInterceptor(resolver: identities, revocations: revocations, logger: logger),
      RequestLimitsInterceptor(
        identities: identities,
        maximumConcurrentCalls: limits.maximumConcurrentCallsPerCaller,
        maximumRequestBytes: limits.maximumRequestBytes,
        counter: counter,
        metrics: metrics,
        logger: logger
      ),
    ]
  }

  /// The services of the public listener.
  static func publicServices(
    _ domain: GatewayDomain,
    clock: any WallClock,
    health: HealthStatus,
    logger: Logger
  ) -> [any RegistrableRPCService] {
    let logger = logger.with("listener", "public")
    return [
      TrackingService(
        citizen: domain.citizenDesk(clock: clock),
        logger: logger
      ),
      CustodyService(
        log: domain.custodyLog,
        checkpointer: domain.checkpointer,
        citizen: domain.citizenDesk(clock: clock),
        verifierKey: domain.verifierKey,
        clock: clock,
        logger: logger
      ),
      HealthService(status: health),
    ]
      + ReflectionServiceV1Alpha.pair(serving: [
        Postalgateway_V1_TrackingService.descriptor,
        Postalgateway_V1_CustodyService.descriptor,
        Grpc_Health_V1_Health.descriptor,
      ])
  }

  /// The interceptors of the public listener.
  static func publicInterceptors(
    limits: GatewayConfiguration.Limits,
    counter: CallCounter,
    metrics: GatewayMetrics,
    logger: Logger
  ) -> [any ServerInterceptor] {
    let logger = logger.with("listener", "public")
    return [
      MetricsInterceptor(listener: "public", metrics: metrics),
      RequestLoggingInterceptor(logger: logger),
      AuthorizationInterceptor(
        resolver: CitizenIdentityResolver(),
        policy: .standard,
        logger: logger
      ),
      RequestLimitsInterceptor(
        identities: CitizenIdentityResolver(),
        maximumConcurrentCalls: limits.maximumConcurrentCallsPerCaller,
        maximumRequestBytes: limits.maximumRequestBytes,
        counter: counter,
        metrics: metrics,
        logger: logger
      ),
    ]
  }

  /// The transport configuration of a listener: its limits and its connection guard.
  static func transportConfig(
    _ limits: GatewayConfiguration.Limits,
    guard connectionGuard: ConnectionGuard
  ) -> HTTP2ServerTransport.Posix.Config {
    .defaults {
      // The transport resets anything much larger; the interceptor answers the rest.
      $0.rpc.maxRequestPayloadSize = limits.maximumRequestBytes + 1024 * 1024
      $0.http2.maxConcurrentStreams = limits.maximumConcurrentStreamsPerConnection
      $0.connection.maxIdleTime = .seconds(limits.maximumIdleSeconds)
      $0.channelDebuggingCallbacks = connectionGuard.callbacks
    }
  }

  /// Binds nothing yet: builds both servers on their configured addresses.
  /// - Throws: ``ConfigurationError`` for unusable certificates or addresses.
  static func build(
    _ domain: GatewayDomain,
    configuration: GatewayConfiguration,
    tls: TLSMaterial,
    identities: any IdentityResolver,
    clock: any WallClock,
    health: GatewayHealth,
    metrics: GatewayMetrics,
    logger: Logger
  ) throws -> GatewayListeners {
    let limits = configuration.limits
    func connectionGuard(_ listener: String) -> ConnectionGuard {
      ConnectionGuard(
        listener: listener,
        maximumConnections: limits.maximumConnectionsPerListener,
        firstCallTimeout: .seconds(limits.firstCallTimeoutSeconds),
        metrics: metrics,
        logger: logger.with("listener", listener)
      )
    }
    let partnerTransport = HTTP2ServerTransport.Posix(
      address: try Self.socketAddress(configuration.partner),
      transportSecurity: try Self.mutualTLS(tls),
      config: Self.transportConfig(limits, guard: connectionGuard("partner"))
    )
    let publicTransport = HTTP2ServerTransport.Posix(
      address: try Self.socketAddress(configuration.publicListener),
      transportSecurity: configuration.publicListener.plaintext ? .plaintext : try Self.tls(tls),
      config: Self.transportConfig(limits, guard: connectionGuard("public"))
    )
    let counter = CallCounter()
    return GatewayListeners(
      partnerTransport: partnerTransport,
      publicTransport: publicTransport,
      partnerServer: Server(
        transport: partnerTransport,
        services: Self.partnerServices(
          domain,
          configuration: configuration,
          identities: identities,
          clock: clock,
          health: health.partner,
          logger: logger
        ),
        interceptors: Self.partnerInterceptors(
          identities: identities,
          revocations: domain.revocations,
          limits: limits,
          counter: counter,
          metrics: metrics,
          logger: logger
        )
      ),
      publicServer: Server(
        transport: publicTransport,
        services: Self.publicServices(
          domain,
          clock: clock,
          health: health.publicListener,
          logger: logger
        ),
        interceptors: Self.publicInterceptors(
          limits: limits,
          counter: counter,
          metrics: metrics,
          logger: logger
        )
      )
    )
  }

  /// The health statuses of both listeners, from the services they serve.
  static func health() -> GatewayHealth {
    let writers = [
      Postalgateway_V1_CounterService.descriptor, Postalgateway_V1_AgencyService.descriptor,
      Postalgateway_V1_OperatorService.descriptor, Postalgateway_V1_SigningKeyService.descriptor,
    ].map(\.fullyQualifiedService)
    return GatewayHealth(
      partner: HealthStatus(
        services: writers + [Postalgateway_V1_OversightService.descriptor.fullyQualifiedService]
      ),
      publicListener: HealthStatus(services: [
        Postalgateway_V1_TrackingService.descriptor.fullyQualifiedService,
        Postalgateway_V1_CustodyService.descriptor.fullyQualifiedService,
      ]),
      writers: Set(writers)
    )
  }

  /// The partner listener's security: the chain and key, client certificates from the CAs
  /// (the load tool's echo server uses the same).
  /// - Throws: ``ConfigurationError`` when the files hold no certificates.
  static func mutualTLS(_ tls: TLSMaterial) throws -> HTTP2ServerTransport.Posix.TransportSecurity {
    let (chain, key) = try Self.identity(tls)
    let clientCAs = TLSMaterial.pemBlocks(tls.clientCAPEM).map {
      TLSConfig.CertificateSource.bytes(Array($0.utf8), format: .pem)
    }
    guard !clientCAs.isEmpty else {
      throw ConfigurationError("the client CA file must hold PEM certificates")
    }
    return .mTLS(certificateChain: chain, privateKey: key) {
      $0.trustRoots = .certificates(clientCAs)
      $0.clientCertificateVerification = .noHostnameVerification
    }
  }

  /// The public listener's security: the chain and key, no client certificates.
  static func tls(_ tls: TLSMaterial) throws -> HTTP2ServerTransport.Posix.TransportSecurity {
    let (chain, key) = try Self.identity(tls)
    return .tls(certificateChain: chain, privateKey: key)
  }

  private static func identity(
    _ tls: TLSMaterial
  ) throws -> ([TLSConfig.CertificateSource], TLSConfig.PrivateKeySource) {
    let chain = TLSMaterial.pemBlocks(tls.certificateChainPEM).map {
      TLSConfig.CertificateSource.bytes(Array($0.utf8), format: .pem)
    }
    guard !chain.isEmpty else {
      throw ConfigurationError("the certificate chain file must hold PEM certificates")
    }
    return (chain, .bytes(Array(tls.privateKeyPEM.utf8), format: .pem))
  }

  /// A configured host and port as a socket address.
  static func socketAddress(
    _ listener: GatewayConfiguration.Listener
  ) throws -> SocketAddress {
    let host = listener.host == "localhost" ? "127.0.0.1" : listener.host
    return host.contains(":")
      ? .ipv6(host: host, port: listener.port) : .ipv4(host: host, port: listener.port)
  }
}
