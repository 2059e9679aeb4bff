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

/// Certificates made at run time by the project's own CA code: a CA, the server, a staff
/// member, an agency, and a staff certificate from an unrelated CA.
struct TestPKI: Sendable {
  static let trustDomain = "test.postal-gateway"

  let ca: CertificateAuthority
  let server: PEMCredential
  let staff: PEMCredential
  let otherStaff: PEMCredential
  let agency: PEMCredential
  let foreignStaff: PEMCredential
  let noIdentity: PEMCredential

  static let shared: TestPKI = {
    // The CA code under test is deterministic given its inputs; failure here is a test bug.
    let ca = try! CertificateAuthority.create(commonName: "test CA")
    let foreign = try! CertificateAuthority.create(commonName: "foreign CA")
    let office = try! PostOfficeCode(validating: "250000")
    let otherOffice = try! PostOfficeCode(validating: "251000")
    let agency = try! AgencyCode(validating: "000.00.00.H55")
    return TestPKI(
      ca: ca,
      server: try! ca.issue(
        .server(dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"]),
        commonName: "server"
      ),
      staff: try! ca.issue(
        .client(
          spiffeID: SPIFFEIdentity.staff(
            trustDomain: trustDomain,
            postOffice: office,
            staffID: "clerk-01"
          )
        ),
        commonName: "clerk-01"
      ),
      otherStaff: try! ca.issue(
        .client(
          spiffeID: SPIFFEIdentity.staff(
            trustDomain: trustDomain,
            postOffice: otherOffice,
            staffID: "courier-07"
          )
        ),
        commonName: "courier-07"
      ),
      agency: try! ca.issue(
        .client(spiffeID: SPIFFEIdentity.agency(trustDomain: trustDomain, agency: agency)),
        commonName: "agency"
      ),
      foreignStaff: try! foreign.issue(
        .client(
          spiffeID: SPIFFEIdentity.staff(
            trustDomain: trustDomain,
            postOffice: office,
            staffID: "clerk-01"
          )
        ),
        commonName: "intruder"
      ),
      noIdentity: try! ca.issue(
        .client(spiffeID: "spiffe://elsewhere.example/staff/250000/x"),
        commonName: "x"
      )
    )
  }()

  var tls: TLSMaterial {
    TLSMaterial(
      certificateChainPEM: self.server.certificatePEM,
      privateKeyPEM: self.server.privateKeyPEM,
      clientCAPEM: try! self.ca.certificatePEM
    )
  }
}

/// Log records captured from a running gateway, to check what reaches the logs.
final class LogCapture: Sendable {
  private let records = Mutex<[String]>([])

  var lines: [String] { self.records.withLock { $0 } }

  var logger: Logger {
    Logger(label: "test") { _ in Handler(capture: self) }
  }

  fileprivate func append(_ line: String) { self.records.withLock { $0.append(line) } }

  private struct Handler: LogHandler {
    let capture: LogCapture
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
      get { self.metadata[key] }
      set { self.metadata[key] = newValue }
    }

    func log(event: LogEvent) {
      let all = self.metadata.merging(event.metadata ?? [:]) { $1 }
      self.capture.append("\(event.level) \(event.message) \(all)")
    }
  }
}

/// A gateway running on loopback ports chosen by the OS, with clients for each kind of caller.
struct RunningGateway: Sendable {
  let partnerPort: Int
  let publicPort: Int
  let dataDirectory: String
  let gateway: Gateway

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
      target: .ipv4(address: "127.0.0.1", port: port),
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
  configuration.trustDomain = TestPKI.trustDomain
  configuration.partner = .init(host: "127.0.0.1", port: 0)
  configuration.publicListener = .init(host: "127.0.0.1", port: 0)
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
  return try await withThrowingTaskGroup(of: Void.self) { group in
    group.addTask { try await gateway.run() }
    do {
      await gateway.health.waitUntilServing()
      let partner = try await gateway.partnerTransport.listeningAddress
      let citizen = try await gateway.publicTransport.listeningAddress
      let running = RunningGateway(
        partnerPort: partner.ipv4!.port,  // bound to an IPv4 address above
        publicPort: citizen.ipv4!.port,
        dataDirectory: configuration.dataDirectory,
        gateway: gateway
      )
      let result = try await body(running)
      await gateway.beginGracefulShutdown()
      try await group.waitForAll()
      return result
    } catch {
      await gateway.beginGracefulShutdown()
      try? await group.waitForAll()
      throw error
    }
  }
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

/// A valid pickup request with a fresh request id.
func samplePickup(
  requestID: String = UUID().uuidString,
  citizenID: String = "019084000123",
  name: String = "Nguyễn Văn An"
) -> Postalgateway_V1_RegisterPickupRequest {
  .with {
    $0.requestID = requestID
    $0.serviceType = .dossierAndResult
    $0.applicant = .with {
      $0.fullName = name
      $0.citizenID = citizenID
      $0.phone = "0912 345 678"
      $0.address = .with {
        $0.provinceCode = "19"
        $0.communeCode = "05500"
        $0.detail = "12 Lương Ngọc Quyến"
      }
    }
    $0.procedureCode = "2.000635"
    $0.destinationAgencyCode = "000.00.00.H55"
    $0.pickup = .with { $0.counter = .with { $0.postOfficeCode = "250000" } }
  }
}

/// A RecordEvent request.
func eventRequest(
  _ number: String,
  _ type: Postalgateway_V1_EventType,
  requestID: String = UUID().uuidString
) -> Postalgateway_V1_RecordEventRequest {
  .with {
    $0.requestID = requestID
    $0.trackingNumber = number
    $0.type = type
  }
}

/// Calls `body` and returns the RPC error it throws (or records a failure).
func rpcError(_ body: () async throws -> Void) async -> RPCError? {
  do {
    try await body()
    return nil
  } catch let error as RPCError {
    return error
  } catch {
    return RPCError(code: .unknown, message: "unexpected \(error)")
  }
}

/// A RecordCollection request for the sample procedure 2.000635 (a form, original, and an
/// identity paper, copy; fee 8,000 VND), complete unless `complete` is false.
func collectionRequest(
  _ number: String,
  complete: Bool = true,
  requestID: String = UUID().uuidString
) -> Postalgateway_V1_RecordCollectionRequest {
  .with {
    $0.requestID = requestID
    $0.trackingNumber = number
    $0.items = [
      .with {
        $0.documentID = "TO_KHAI"
        $0.form = .original
        $0.pages = 2
      }
    ]
    if complete {
      $0.items.append(
        .with {
          $0.documentID = "GIAY_TO_TUY_THAN"
          $0.form = .copy
          $0.pages = 1
        }
      )
    }
    $0.sealID = "S-000123"
    $0.feeCollectedVnd = 8000
    $0.postageVnd = 25000
  }
}

/// Every file under a folder with its size, to show that a refused upload stored nothing.
func listing(_ directory: String) -> [String: Int] {
  var files: [String: Int] = [:]
  guard let enumerator = FileManager.default.enumerator(atPath: directory) else { return files }
  while let path = enumerator.nextObject() as? String {
    let full = (directory as NSString).appendingPathComponent(path)
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory),
      !isDirectory.boolValue
    {
      files[path] = (try? FileManager.default.attributesOfItem(atPath: full)[.size] as? Int) ?? -1
    }
  }
  return files
}

/// A PDF-looking body of `size` bytes.
func pdfBytes(_ size: Int, seed: UInt8 = 0) -> [UInt8] {
  let header = Array("%PDF-1.7\n".utf8)
  return header
    + (0 ..< max(0, size - header.count)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed)) }
}

/// Uploads a file in chunks of `chunkSize`.
func upload(
  _ counter: Postalgateway_V1_CounterService.Client<HTTP2ClientTransport.Posix>,
  number: String,
  documentID: String,
  bytes: [UInt8],
  contentType: Postalgateway_V1_ScanContentType = .pdf,
  expectedSHA256: [UInt8]? = nil,
  chunkSize: Int = 64 * 1024,
  requestID: String = UUID().uuidString
) async throws -> Postalgateway_V1_UploadScanResponse {
  try await counter.uploadScan(
    requestProducer: { writer in
      try await writer.write(
        .with {
          $0.header = .with {
            $0.requestID = requestID
            $0.trackingNumber = number
            $0.documentID = documentID
            $0.contentType = contentType
            if let expectedSHA256 { $0.expectedSha256 = Data(expectedSHA256) }
          }
        }
      )
      var offset = 0
      while offset < bytes.count {
        let end = min(offset + chunkSize, bytes.count)
        try await writer.write(.with { $0.chunk = Data(bytes[offset ..< end]) })
        offset = end
      }
    })
}

/// Device keys of the test staff member and the test agency, registered with the gateway.
struct HandoverKeys: Sendable {
  let staff = Curve25519.Signing.PrivateKey()
  let agency = Curve25519.Signing.PrivateKey()

  static let agencyID = "spiffe://\(TestPKI.trustDomain)/agency/000.00.00.H55"
  static let staffID = "spiffe://\(TestPKI.trustDomain)/staff/250000/clerk-01"

  /// Registers both keys (each with its own certificate).
  func register(on gateway: RunningGateway) async throws {
    for (credential, key) in [
      (TestPKI.shared.staff, self.staff), (TestPKI.shared.agency, self.agency),
    ] {
      _ = try await gateway.withClient(port: gateway.partnerPort, credential: credential) {
        client in
        try await Postalgateway_V1_SigningKeyService.Client(wrapping: client).registerSigningKey(
          .with { $0.publicKey = key.publicKey.rawRepresentation }
        )
      }
    }
  }

  static func keyID(_ key: Curve25519.Signing.PrivateKey) -> String {
    SHA256.hash(data: key.publicKey.rawRepresentation).prefix(8).map { String(format: "%02x", $0) }
      .joined()
  }

  /// A handover of `shipment` signed by both parties (or with `forge` replacing one signature).
  func handover(
    _ shipment: Postalgateway_V1_Shipment,
    kind: EventKind,
    occurredAt: Google_Protobuf_Timestamp,
    resultSeal: String? = nil,
    forgeReceiver: Bool = false
  ) throws -> Postalgateway_V1_Handover {
    let (giver, receiver) =
      kind == .handedToAgency ? (Self.staffID, Self.agencyID) : (Self.agencyID, Self.staffID)
    let (giverKey, receiverKey) =
      kind == .handedToAgency ? (self.staff, self.agency) : (self.agency, self.staff)
    let scans =
      kind == .handedToAgency
      ? shipment.events.filter { !$0.voided && !$0.scan.sha256.isEmpty }.map(\.scan.sha256) : []
    let seal =
      kind == .resultCollected
      ? resultSeal : (shipment.currentSealID.isEmpty ? nil : shipment.currentSealID)
    let statement = HandoverStatement.bytes(
      trackingNumber: try TrackingNumber(validating: shipment.trackingNumber),
      kind: kind,
      giver: giver,
      receiver: receiver,
      occurredAt: Timestamp(seconds: occurredAt.seconds, nanoseconds: occurredAt.nanos),
      sealID: seal,
      scans: scans
    )
    let forger = Curve25519.Signing.PrivateKey()
    let giverSignature = try giverKey.signature(for: statement)
    let receiverSignature = try (forgeReceiver ? forger : receiverKey).signature(for: statement)
    return .with {
      $0.counterparty = Self.agencyID
      $0.giverSignature = .with {
        $0.keyID = Self.keyID(giverKey)
        $0.signature = Data(giverSignature)
      }
      $0.receiverSignature = .with {
        $0.keyID = Self.keyID(receiverKey)
        $0.signature = Data(receiverSignature)
      }
    }
  }
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
