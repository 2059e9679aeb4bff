import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import Proto
import ServiceLifecycle
import Tracking

/// Delivers queued push handoffs to agency `AgencyIntake` endpoints over mutual TLS.
///
/// One worker per push route, each with one HTTP/2 connection and at most
/// ``Policy/maximumInFlight`` calls in flight. A worker sleeps until the outbox changes or its
/// earliest retry is due: an idle dispatcher does nothing. A handoff stays queued in the store until the
/// agency's receipt is applied, so deliveries survive restarts; a failed attempt is retried
/// after an exponentially growing delay with jitter, and dead-lettered after
/// ``Policy/maximumAttempts`` attempts or ``Policy/maximumAge``. The agency's server certificate
/// must chain to the CA configured for that agency, or nothing is sent.
struct HandoffDispatcher: Service, CustomStringConvertible {
  var description: String { "HandoffDispatcher" }

  /// Retry and concurrency limits.
  struct Policy: Sendable {
    var maximumAttempts: Int
    var maximumAge: Duration
    var initialBackoff: Duration
    var maximumBackoff: Duration
    var attemptTimeout: Duration
    var maximumInFlight: Int

    init(_ configuration: GatewayConfiguration.Handoffs) {
      self.maximumAttempts = configuration.maximumAttempts
      self.maximumAge = .seconds(configuration.maximumAgeSeconds)
      self.initialBackoff = .milliseconds(configuration.initialBackoffMilliseconds)
      self.maximumBackoff = .milliseconds(configuration.maximumBackoffMilliseconds)
      self.attemptTimeout = .milliseconds(configuration.attemptTimeoutMilliseconds)
      self.maximumInFlight = configuration.maximumInFlightPerEndpoint
    }

    /// The wait after the `failures`-th failure: the capped exponential delay, half fixed and
    /// half random ("equal jitter"), so retries of many handoffs spread out.
    func delay(
      afterFailures failures: Int,
      using generator: inout some RandomNumberGenerator
    )
      -> Duration
    {
      let initial =
        Double(self.initialBackoff.components.seconds)
        + Double(self.initialBackoff.components.attoseconds) / 1e18
      let maximum =
        Double(self.maximumBackoff.components.seconds)
        + Double(self.maximumBackoff.components.attoseconds) / 1e18
      let exponential = min(maximum, initial * pow(2, Double(min(failures - 1, 62))))
      let seconds = exponential / 2 + Double.random(in: 0 ... exponential / 2, using: &generator)
      return .milliseconds(Int64(seconds * 1000))
    }
  }

  let routes: RouteTable
  let store: any HandoffStore
  let desk: AgencyDesk
  let trustDomain: String
  let policy: Policy
  let clock: any WallClock
  let feed: ChangeFeed
  let logger: Logger

  /// Runs every push route's worker until graceful shutdown; deliveries in flight then finish
  /// and their outcomes are stored before it returns. When the routing file is reloaded, the
  /// workers of the old routes stop and those of the new ones start (queued handoffs stay in
  /// the store and are delivered on the new route).
  func run() async {
    await withDiscardingTaskGroup { group in
      var started: Int?
      while !Task.isCancelled, !Task.isShuttingDownGracefully {
        let (routes, version) = self.routes.snapshot
        if version != started {
          started = version
          for route in routes where route.mode == .push {
            guard let endpoint = route.endpoint else { continue }
            group.addTask { await self.serve(route.agency, endpoint, version: version) }
          }
        }
        await cancelWhenGracefulShutdown { await self.routes.waitForChange(from: version) }
      }
    }
  }

  private func serve(_ agency: AgencyCode, _ endpoint: AgencyRoute.Endpoint, version: Int) async {
    let logger = self.logger.with("agency", agency.rawValue).with("endpoint", endpoint.description)
    let transport: HTTP2ClientTransport.Posix
    do {
      transport = try Self.transport(endpoint, policy: self.policy)
    } catch {
      logger.error("agency channel not started", metadata: ["error": "\(error)"])
      return
    }
    let timeout = self.policy.attemptTimeout
    await withTaskGroup(of: Void.self) { group in
      group.addTask {
        do {
          try await withGRPCClient(transport: transport) { client in
            await self.deliverLoop(
              agency,
              Postalgateway_V1_AgencyIntake.Client(wrapping: client),
              logger
            )
          }
        } catch {
          if !Task.isCancelled {
            logger.error("agency channel failed", metadata: ["error": "\(error)"])
          }
        }
      }
      group.addTask {
        // An endpoint that accepts TCP but never completes TLS or HTTP/2 would hold the
        // client's graceful close forever: once the loop stops, allow one attempt's time
        // (network time, not the injected clock), then cut the connection.
        do {
          try await gracefulShutdown()
          try await Task.sleep(for: timeout + .seconds(1))
        } catch {
          return
        }
      }
      group.addTask {
        // Reloaded routes: this worker's route may be gone or changed.
        await self.routes.waitForChange(from: version)
        if !Task.isCancelled { logger.info("agency channel restarted for the reloaded routes") }
      }
      await group.next()
      group.cancelAll()
    }
  }

  private func deliverLoop(
    _ agency: AgencyCode,
    _ client: Postalgateway_V1_AgencyIntake.Client<HTTP2ClientTransport.Posix>,
    _ logger: Logger
  ) async {
    while !Task.isCancelled, !Task.isShuttingDownGracefully {
      // Taken before the read, so a handoff queued meanwhile wakes the worker at once.
      let position = self.feed.position()
      var due: [Handoff] = []
      var next: Timestamp?
      do {
        due = try await self.store.dueHandoffs(
          agency: agency,
          now: self.clock.now(),
          limit: self.policy.maximumInFlight
        )
        if due.isEmpty { next = try await self.store.nextAttemptTime(agency: agency) }
      } catch {
        logger.error("outbox unreadable", metadata: ["error": "\(error)"])
        next = self.clock.now().advanced(by: .seconds(1))
      }
      if !due.isEmpty {
        await withDiscardingTaskGroup { group in
          for handoff in due {
            group.addTask { await self.deliver(handoff, client, logger) }
          }
        }
        continue
      }
      let wakeAt = next
      await cancelWhenGracefulShutdown {
        await self.feed.wait(for: [.outbox], after: position, until: wakeAt, clock: self.clock)
      }
    }
  }

  private func deliver(
    _ handoff: Handoff,
    _ client: Postalgateway_V1_AgencyIntake.Client<HTTP2ClientTransport.Posix>,
    _ logger: Logger
  ) async {
    let logger = logger.with("handoff.id", handoff.id)
    let actor = Actor.agency(
      id: SPIFFEIdentity.agency(trustDomain: self.trustDomain, agency: handoff.agency),
      agency: handoff.agency
    )
    do {
      let shipment = try await self.desk.shipment(handoff.trackingNumber, for: handoff.agency)
      let package = Postalgateway_V1_DossierPackage(
        shipment,
        handoffID: handoff.id,
        queuedAt: handoff.queuedAt
      )
      var options = CallOptions.defaults
      options.timeout = self.policy.attemptTimeout
      let receipt = try await client.deliverDossier(package, options: options)
      let decision: AgencyDecision
      do {
        decision = try receipt.decision(handoffID: handoff.id)
      } catch let error as TrackingError {
        throw DeliveryError("the agency's receipt is malformed: \(error.message)")
      }
      let now = self.clock.now()
      // Unique per attempt: a repeated receipt is recognized by the decision itself.
      let requestID = try RequestID(validating: "push-\(handoff.id)-\(now.microseconds)")
      let key = try RequestFingerprint.key(
        requestID,
        method: Postalgateway_V1_AgencyIntake.Method.DeliverDossier.descriptor,
        caller: actor,
        message: receipt
      )
      let (_, applied) = try await self.desk.decide(
        decision,
        by: actor,
        idempotencyKey: key,
        now: now
      )
      logger.info(
        "handoff delivered",
        metadata: [
          "handoff.outcome": "\(decision.summary)", "handoff.applied": "\(applied)",
          "handoff.attempt": "\(handoff.attempts + 1)",
        ]
      )
    } catch {
      await self.recordFailure(of: handoff, Self.describe(error), logger)
    }
  }

  private func recordFailure(of handoff: Handoff, _ error: String, _ logger: Logger) async {
    let now = self.clock.now()
    let failures = handoff.attempts + 1
    let age = handoff.queuedAt.duration(to: now)
    let dead = failures >= self.policy.maximumAttempts || age >= self.policy.maximumAge
    var generator = SystemRandomNumberGenerator()
    let next = now.advanced(by: self.policy.delay(afterFailures: failures, using: &generator))
    do {
      try await self.store.recordFailedAttempt(
        id: handoff.id,
        at: now,
        error: error,
        nextAttemptAt: next,
        deadLetter: dead
      )
    } catch {
      logger.error("failed attempt not recorded", metadata: ["error": "\(error)"])
    }
    if dead {
      logger.error(
        "handoff dead-lettered",
        metadata: ["handoff.attempts": "\(failures)", "error": "\(error)"]
      )
    } else {
      logger.warning(
        "handoff attempt failed",
        metadata: [
          "handoff.attempts": "\(failures)", "handoff.next": "\(next)", "error": "\(error)",
        ]
      )
    }
  }

  static func describe(_ error: any Error) -> String {
    switch error {
    case let error as RPCError:
      var text = "\(error.code): \(error.message)"
      if let cause = error.cause { text += " (\(cause))" }
      return String(text.prefix(1000))
    case let error as TrackingError:
      return "\(error.code): \(error.message)"
    default:
      return String("\(error)".prefix(1000))
    }
  }

  static func transport(
    _ endpoint: AgencyRoute.Endpoint,
    policy: Policy
  ) throws -> HTTP2ClientTransport.Posix {
    let roots = TLSMaterial.pemBlocks(endpoint.serverCAPEM).map {
      TLSConfig.CertificateSource.bytes(Array($0.utf8), format: .pem)
    }
    let chain = TLSMaterial.pemBlocks(endpoint.clientCertificatePEM).map {
      TLSConfig.CertificateSource.bytes(Array($0.utf8), format: .pem)
    }
    guard !roots.isEmpty, !chain.isEmpty else {
      throw ConfigurationError(
        "the agency CA and the client certificate must hold PEM certificates"
      )
    }
    let security = HTTP2ClientTransport.Posix.TransportSecurity.mTLS(
      certificateChain: chain,
      privateKey: .bytes(Array(endpoint.clientKeyPEM.utf8), format: .pem)
    ) {
      // Only the agency's CA: never the system store.
      $0.trustRoots = .certificates(roots)
      $0.serverCertificateVerification = .fullVerification
    }
    var config = HTTP2ClientTransport.Posix.Config.defaults
    config.backoff.initial = min(policy.initialBackoff, .seconds(1))
    config.backoff.max = min(policy.maximumBackoff, .seconds(30))
    let address = endpoint.address
    // The certificate must name the host as written: a DNS name, or an IP address.
    let target: any ResolvableTarget =
      address.host.contains(":")
      ? .ipv6(address: address.host, port: address.port)
      : address.host.allSatisfy({ $0.isNumber || $0 == "." })
        ? .ipv4(address: address.host, port: address.port)
        : .dns(host: address.host, port: address.port)
    return try HTTP2ClientTransport.Posix(
      target: target,
      transportSecurity: security,
      config: config
    )
  }
}

/// A delivery that reached the agency but could not be used.
struct DeliveryError: Error, CustomStringConvertible {
  var description: String
  init(_ description: String) { self.description = description }
}
