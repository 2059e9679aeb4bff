import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Proto
import SwiftProtobuf
import Synchronization
import Tracking

@testable import PostalGateway

/// Certificates of the handoff tests: the agency's own CA and server certificate (not the
/// gateway's CA), a rogue CA's server certificate for the same host, and the certificates the
/// gateway CA issues to the gateway (as a client), a second agency and an operator.
struct HandoffPKI: Sendable {
  let agencyCA: CertificateAuthority
  let agencyServer: PEMCredential
  let rogueServer: PEMCredential
  let gatewayClient: PEMCredential
  let otherAgency: PEMCredential
  let `operator`: PEMCredential
  let oversight: PEMCredential

  static let agencyA = try! AgencyCode(validating: "000.00.00.H55")
  static let agencyB = try! AgencyCode(validating: "000.00.15.H55")

  static let shared: HandoffPKI = {
    // Deterministic given its inputs; a failure here is a test bug.
    let agencyCA = try! CertificateAuthority.create(commonName: "agency H55 CA")
    let rogue = try! CertificateAuthority.create(commonName: "rogue CA")
    let gatewayCA = TestPKI.shared.ca
    let domain = TestPKI.trustDomain
    return HandoffPKI(
      agencyCA: agencyCA,
      agencyServer: try! agencyCA.issue(
        .server(dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"]),
        commonName: "intake.h55"
      ),
      rogueServer: try! rogue.issue(
        .server(dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"]),
        commonName: "intake.h55"
      ),
      gatewayClient: try! gatewayCA.issue(
        .client(spiffeID: "spiffe://\(domain)/gateway"),
        commonName: "postal-gateway"
      ),
      otherAgency: try! gatewayCA.issue(
        .client(spiffeID: SPIFFEIdentity.agency(trustDomain: domain, agency: agencyB)),
        commonName: "agency-b"
      ),
      operator: try! gatewayCA.issue(
        .client(spiffeID: SPIFFEIdentity.operator(trustDomain: domain, id: "ops-01")),
        commonName: "ops-01"
      ),
      oversight: try! gatewayCA.issue(
        .client(spiffeID: SPIFFEIdentity.oversight(trustDomain: domain, id: "so-tt-01")),
        commonName: "so-tt-01"
      )
    )
  }()

  /// Writes a routing file sending agency A's dossiers to `port` (push) or to the pull stream.
  func routesFile(mode: HandoffMode, port: Int, in directory: String) throws -> String {
    func write(_ name: String, _ text: String) throws {
      try text.write(
        toFile: (directory as NSString).appendingPathComponent(name),
        atomically: true,
        encoding: .utf8
      )
    }
    try write("agency-ca.pem", try self.agencyCA.certificatePEM)
    try write("gateway-client.pem", self.gatewayClient.certificatePEM)
    try write("gateway-client-key.pem", self.gatewayClient.privateKeyPEM)
    let entry: [String: String] =
      mode == .push
      ? [
        "agency": Self.agencyA.rawValue, "mode": "push", "endpoint": "127.0.0.1:\(port)",
        "serverCA": "agency-ca.pem", "clientCertificate": "gateway-client.pem",
        "clientKey": "gateway-client-key.pem",
      ] : ["agency": Self.agencyA.rawValue, "mode": "pull"]
    let path = (directory as NSString).appendingPathComponent("routes.json")
    let data = try JSONSerialization.data(withJSONObject: ["agencies": [entry]])
    try data.write(to: URL(fileURLWithPath: path))
    return path
  }
}

/// An agency's one-stop system as a test serves it: an `AgencyIntake` server over mutual TLS
/// (its own server certificate; gateway clients must present a certificate from the gateway CA)
/// that registers each handoff id once, as a real intake must, and answers repeats with the
/// same receipt.
final class TestAgencyIntake: Postalgateway_V1_AgencyIntake.SimpleServiceProtocol, Sendable {
  enum Behaviour: Sendable {
    case accept
    case reject
  }

  struct State {
    var calls: [String: Int] = [:]
    var registered: [String: Postalgateway_V1_IntakeReceipt] = [:]
    var packages: [String: Postalgateway_V1_DossierPackage] = [:]
    var presentedIdentities: Set<String> = []
    var available = true
    var refused = 0
  }

  let behaviour: Behaviour
  private let state = Mutex(State())

  init(_ behaviour: Behaviour = .accept, available: Bool = true) {
    self.behaviour = behaviour
    self.state.withLock { $0.available = available }
  }

  /// Whether the intake takes deliveries; while not, it answers `UNAVAILABLE` (an agency system
  /// that is down for maintenance) and registers nothing.
  func setAvailable(_ available: Bool) { self.state.withLock { $0.available = available } }

  /// Deliveries refused while unavailable.
  var refused: Int { self.state.withLock { $0.refused } }

  /// Calls per handoff id.
  var calls: [String: Int] { self.state.withLock { $0.calls } }
  /// Dossiers registered (each handoff id once).
  var registered: [String: Postalgateway_V1_IntakeReceipt] { self.state.withLock { $0.registered } }
  var packages: [String: Postalgateway_V1_DossierPackage] { self.state.withLock { $0.packages } }

  func deliverDossier(
    request: Postalgateway_V1_DossierPackage,
    context: ServerContext
  ) async throws -> Postalgateway_V1_IntakeReceipt {
    guard let posix = context.transportSpecific as? HTTP2ServerTransport.Posix.Context,
      posix.peerCertificate != nil
    else {
      throw RPCError(code: .unauthenticated, message: "a client certificate is required")
    }
    let receipt = self.state.withLock { state -> Postalgateway_V1_IntakeReceipt? in
      guard state.available else {
        state.refused += 1
        return nil
      }
      state.calls[request.handoffID, default: 0] += 1
      if let receipt = state.registered[request.handoffID] { return receipt }
      let receipt: Postalgateway_V1_IntakeReceipt
      switch self.behaviour {
      case .accept:
        let sequence = state.registered.count + 1
        receipt = .with {
          $0.accepted = .with {
            $0.dossierCode = "\(request.agencyCode)-261129-\(String(format: "%04d", sequence))"
            $0.receivedAt = Google_Protobuf_Timestamp(date: Date())
            $0.appointmentDate = "2026-12-15"
          }
        }
      case .reject:
        receipt = .with { $0.rejected = .with { $0.reason = "thiếu chữ ký trên tờ khai" } }
      }
      state.registered[request.handoffID] = receipt
      state.packages[request.handoffID] = request
      return receipt
    }
    guard let receipt else {
      throw RPCError(code: .unavailable, message: "the intake is down for maintenance")
    }
    return receipt
  }
}

/// Serves an intake on `port` (0 for any) with `credential` as its server certificate, for the
/// duration of `body`.
func withAgencyEndpoint<T: Sendable>(
  _ intake: TestAgencyIntake,
  port: Int = 0,
  credential: PEMCredential = HandoffPKI.shared.agencyServer,
  _ body: (Int) async throws -> T
) async throws -> T {
  let gatewayCA = try TestPKI.shared.ca.certificatePEM
  let server = GRPCServer(
    transport: HTTP2ServerTransport.Posix(
      address: .ipv4(host: "127.0.0.1", port: port),
      transportSecurity: .mTLS(
        certificateChain: [.bytes(Array(credential.certificatePEM.utf8), format: .pem)],
        privateKey: .bytes(Array(credential.privateKeyPEM.utf8), format: .pem)
      ) {
        $0.trustRoots = .certificates([.bytes(Array(gatewayCA.utf8), format: .pem)])
        $0.clientCertificateVerification = .noHostnameVerification
      }
    ),
    services: [intake]
  )
  return try await withThrowingTaskGroup(of: Void.self) { group in
    group.addTask { try await server.serve() }
    defer { server.beginGracefulShutdown() }
    let bound = (try await server.listeningAddress)!.ipv4!.port
    let result = try await body(bound)
    server.beginGracefulShutdown()
    try await group.waitForAll()
    return result
  }
}

/// Waits until `condition` holds, re-checking after every commit the gateway publishes (no
/// polling), for at most `seconds` of real time.
func eventually(
  on gateway: RunningGateway,
  _ seconds: Double = 15,
  _ condition: () async throws -> Bool
) async throws -> Bool {
  let feed = gateway.gateway.feed
  let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
  while ContinuousClock.now < deadline {
    let position = feed.position()
    if try await condition() { return true }
    await withTaskGroup(of: Void.self) { group in
      group.addTask { await feed.wait(for: Set(StoreTopic.allCases), after: position) }
      group.addTask { try? await Task.sleep(until: deadline) }
      await group.next()
      group.cancelAll()
    }
  }
  return try await condition()
}
