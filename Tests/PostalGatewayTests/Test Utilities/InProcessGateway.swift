import GRPCCore
import GRPCInProcessTransport
import Logging
import Tracking

@testable import PostalGateway

/// Identifies every caller as one fixed identity (or none): how handler and authorization tests
/// inject identity over the in-process transport, which carries no certificates.
struct FixedIdentityResolver: IdentityResolver {
  let identity: CallerIdentity?

  func identity(of context: ServerContext) -> CallerIdentity? { self.identity }
}

extension RunningGateway {
  /// Calls the running gateway's own services (same domain, stores and workers) over grpc-swift's
  /// in-process transport, as `identity`: the partner listener's services for a partner or no
  /// identity, the public listener's for a citizen. No sockets, no TLS.
  func inProcess<T: Sendable>(
    as identity: CallerIdentity?,
    _ body: (GRPCClient<InProcessTransport.Client>) async throws -> T
  ) async throws -> T {
    let gateway = self.gateway
    let transport = InProcessTransport()
    let logger = Logger(label: "in-process") { _ in SwiftLogNoOpLogHandler() }
    let server: GRPCServer<InProcessTransport.Server>
    if identity == .citizen {
      server = GRPCServer(
        transport: transport.server,
        services: GatewayListeners.publicServices(
          gateway.domain,
          clock: gateway.clock,
          health: gateway.health.publicListener,
          logger: logger
        ),
        interceptors: GatewayListeners.publicInterceptors(
          limits: gateway.configuration.limits,
          counter: CallCounter(),
          metrics: gateway.metrics,
          logger: logger
        )
      )
    } else {
      let identities = FixedIdentityResolver(identity: identity)
      server = GRPCServer(
        transport: transport.server,
        services: GatewayListeners.partnerServices(
          gateway.domain,
          configuration: gateway.configuration,
          identities: identities,
          clock: gateway.clock,
          health: gateway.health.partner,
          logger: logger
        ),
        interceptors: GatewayListeners.partnerInterceptors(
          identities: identities,
          revocations: gateway.domain.revocations,
          limits: gateway.configuration.limits,
          counter: CallCounter(),
          metrics: gateway.metrics,
          logger: logger
        )
      )
    }
    return try await withThrowingTaskGroup(of: Void.self) { group in
      group.addTask { try await server.serve() }
      do {
        let result = try await withGRPCClient(transport: transport.client) { try await body($0) }
        server.beginGracefulShutdown()
        try await group.waitForAll()
        return result
      } catch {
        server.beginGracefulShutdown()
        try? await group.waitForAll()
        throw error
      }
    }
  }
}

extension Actor {
  /// The test PKI's staff member, agency, operator and oversight office as injected identities.
  static let testStaff = Actor.staff(
    id: "spiffe://\(TestPKI.trustDomain)/staff/250000/clerk-01",
    postOffice: try! PostOfficeCode(validating: "250000")
  )
  static let testAgency = Actor.agency(
    id: "spiffe://\(TestPKI.trustDomain)/agency/000.00.00.H55",
    agency: try! AgencyCode(validating: "000.00.00.H55")
  )
  static let testOperator = Actor.operator(id: "spiffe://\(TestPKI.trustDomain)/operator/ops-01")
  static let testOversight = Actor.oversight(
    id: "spiffe://\(TestPKI.trustDomain)/oversight/so-tt-01"
  )
}
