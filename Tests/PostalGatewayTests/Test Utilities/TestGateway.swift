import Crypto
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import Proto
import SwiftProtobuf
import Synchronization
import Tracking

@testable import PostalGateway

/// A gateway running on loopback ports chosen by the OS, with clients for each kind of caller.
struct RunningGateway: Sendable {
  let partnerPort: Int
  let publicPort: Int
  let dataDirectory: String
  let gateway: Gateway
  /// The citizens' web address's port, when it serves one.
  let webPort: Int?

  /// The gateway's stores.
  var stores: Stores { self.gateway.domain.stores }

  /// What the citizen with the number and code sees.
  func track(_ number: String, code: String) async throws -> Postalgateway_V1_TrackedShipment {
    try await self.withCitizenClient {
      try await $0.trackShipment(
        .with {
          $0.trackingNumber = number
          $0.verificationCode = code
        }
      ).shipment
    }
  }

  /// The scans folder.
  var scansDirectory: String { (self.dataDirectory as NSString).appendingPathComponent("scans") }

  /// A client of the partner listener presenting `credential` (or no certificate).
  func withPartnerClient<T: Sendable>(
    _ credential: PEMCredential?,
    _ body: (Postalgateway_V1_CounterService.Client<HTTP2ClientTransport.Posix>) async throws -> T
  ) async throws -> T {
    try await self.withClient(port: self.partnerPort, credential: credential) { client in
      try await body(Postalgateway_V1_CounterService.Client(wrapping: client))
    }
  }

  /// A citizen's client of the public listener.
  func withCitizenClient<T: Sendable>(
    _ body: (Postalgateway_V1_TrackingService.Client<HTTP2ClientTransport.Posix>) async throws -> T
  ) async throws -> T {
    try await self.withClient(port: self.publicPort, credential: nil) { client in
      try await body(Postalgateway_V1_TrackingService.Client(wrapping: client))
    }
  }

  /// A raw client of either listener.
  func withClient<T: Sendable>(
    port: Int,
    credential: PEMCredential?,
    host: String = "127.0.0.1",
    _ body: (GRPCClient<HTTP2ClientTransport.Posix>) async throws -> T
  ) async throws -> T {
    let caPEM = try TestPKI.shared.ca.certificatePEM
    let roots = TLSConfig.TrustRootsSource.certificates([.bytes(Array(caPEM.utf8), format: .pem)])
    let security: HTTP2ClientTransport.Posix.TransportSecurity
    if let credential {
      security = .mTLS(
        certificateChain: [.bytes(Array(credential.certificatePEM.utf8), format: .pem)],
        privateKey: .bytes(Array(credential.privateKeyPEM.utf8), format: .pem)
      ) { $0.trustRoots = roots }
    } else {
      security = .tls { $0.trustRoots = roots }
    }
    var config = HTTP2ClientTransport.Posix.Config.defaults
    config.backoff.initial = .milliseconds(50)
    config.backoff.max = .milliseconds(200)
    let transport = try HTTP2ClientTransport.Posix(
      target: host.contains(":")
        ? .ipv6(address: host, port: port) : .ipv4(address: host, port: port),
      transportSecurity: security,
      config: config
    )
    return try await withGRPCClient(transport: transport) { try await body($0) }
  }
}

/// Runs a gateway for the duration of `body`, on a fresh data directory unless one is given.
func withTestGateway<T: Sendable>(
  dataDirectory: String? = nil,
  logs: LogCapture? = nil,
  clock: (any WallClock)? = nil,
  configure: (inout GatewayConfiguration) -> Void = { _ in },
  _ body: (RunningGateway) async throws -> T
) async throws -> T {
  var configuration = GatewayConfiguration()
  configuration.dataDirectory = dataDirectory ?? temporaryDirectory()
  configuration.databaseURL = try await TestBackend.databaseURL(for: configuration.dataDirectory)
  configuration.trustDomain = TestPKI.trustDomain
  configuration.partner = .init(host: "127.0.0.1", port: 0)
  configuration.publicListener = .init(host: "127.0.0.1", port: 0)
  configuration.web = .init(host: "127.0.0.1", port: 0)
  configure(&configuration)
  // Errors go to standard error, so that a failure in CI shows its cause (never personal data:
  // the service does not log any).
  let logger =
    logs?.logger
    ?? Logger(label: "test") {
      var handler = StreamLogHandler.standardError(label: $0)
      handler.logLevel = .error
      return handler
    }
  let gateway = try await Gateway.build(
    configuration: configuration,
    tls: TestPKI.shared.tls,
    logger: logger,
    clock: clock ?? SystemWallClock()
  )
  return try await withThrowingTaskGroup(of: Bool.self) { group in
    group.addTask {
      try await gateway.run()
      return false
    }
    group.addTask {
      // Serving within a minute, or the test fails saying so (a start that never completes
      // must not hang the suite).
      try await withThrowingTaskGroup(of: Bool.self) { startup in
        startup.addTask {
          await gateway.health.waitUntilServing()
          return true
        }
        startup.addTask {
          try await Task.sleep(for: .seconds(60))
          return false
        }
        let serving = try await startup.next() ?? false
        startup.cancelAll()
        return serving
      }
    }
    do {
      // Serving, or the gateway ending first: then the test fails with its error, not a hang.
      guard try await group.next() == true else { throw TestGatewayError.stoppedBeforeServing }
      let partner = try await gateway.partnerTransport.listeningAddress
      let citizen = try await gateway.publicTransport.listeningAddress
      let running = RunningGateway(
        partnerPort: partner.ipv4!.port,  // bound to an IPv4 address above
        publicPort: citizen.ipv4?.port ?? citizen.ipv6!.port,  // bound to one of the two
        dataDirectory: configuration.dataDirectory,
        gateway: gateway,
        webPort: await gateway.webPort()
      )
      let result = try await body(running)
      await gateway.beginGracefulShutdown()
      try await group.waitForAll()
      return result
    } catch {
      await gateway.beginGracefulShutdown()
      group.cancelAll()
      try? await group.waitForAll()
      throw error
    }
  }
}

/// Why a test gateway could not be used.
enum TestGatewayError: Error {
  /// Its service group ended, or a minute passed, before both listeners were serving.
  case stoppedBeforeServing
}

/// A new empty folder under the system's temporary directory.
func temporaryDirectory() -> String {
  let path = (NSTemporaryDirectory() as NSString).appendingPathComponent(
    "postal-gateway-test-\(UUID().uuidString)"
  )
  // Creating a folder under the temporary directory only fails if the machine is broken.
  try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  return path
}

/// Now, to the microsecond, as a wire timestamp.
func nowTimestamp() -> Google_Protobuf_Timestamp {
  let micros = Int64(Date().timeIntervalSince1970 * 1_000_000)
  return Google_Protobuf_Timestamp(
    seconds: micros / 1_000_000,
    nanos: Int32(micros % 1_000_000) * 1000
  )
}

/// A clock the test sets: the gateway's wall time, on which every worker sleeps.
final class TestClock: WallClock {
  let manual: ManualClock

  /// Starts at an ISO 8601 time with offset.
  init(_ iso: String) { self.manual = ManualClock(TestClock.parse(iso)) }

  func now() -> Timestamp { self.manual.now() }

  func sleep(until deadline: Timestamp) async throws {
    try await self.manual.sleep(until: deadline)
  }

  /// Sets the time; every sleeper whose deadline is reached wakes.
  func set(_ iso: String) { self.manual.set(TestClock.parse(iso)) }

  /// Returns once some worker sleeps until exactly `deadline`.
  func waitForSleeper(until deadline: Timestamp) async {
    await self.manual.waitForSleeper(until: deadline)
  }

  static func parse(_ iso: String) -> Timestamp {
    // The tests write valid times.
    let date = ISO8601DateFormatter().date(from: iso)!
    return Timestamp(microseconds: Int64((date.timeIntervalSince1970 * 1_000_000).rounded()))
  }
}

/// The first `count` messages of a server stream; the caller then disconnects.
func firstMessages<Message: Sendable>(
  _ count: Int,
  of response: StreamingClientResponse<Message>
) async throws -> [Message] {
  var received: [Message] = []
  for try await message in response.messages {
    received.append(message)
    if received.count == count { break }
  }
  return received
}
