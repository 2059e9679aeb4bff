import Crypto
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Proto
import SwiftProtobuf
import Synchronization
import Testing
import Tracking

@testable import PostalGateway

/// Electronic handoffs to agency systems over mutual TLS, against a real `AgencyIntake` server
/// with its own CA, on the real gateway with its SQLite outbox.
@Suite("Agency handoffs end to end")
struct HandoffEndToEndTests {
  typealias AgencyClient = Postalgateway_V1_AgencyService.Client<HTTP2ClientTransport.Posix>
  typealias OperatorClient = Postalgateway_V1_OperatorService.Client<HTTP2ClientTransport.Posix>

  let pki = HandoffPKI.shared

  /// A gateway whose routing file sends agency A's dossiers by `mode`, retrying fast.
  func withRoutedGateway<T: Sendable>(
    mode: HandoffMode = .push,
    port: Int = 0,
    dataDirectory: String? = nil,
    maximumAttempts: Int = 50,
    clock: (any WallClock)? = nil,
    configure: (inout GatewayConfiguration) -> Void = { _ in },
    _ body: (RunningGateway) async throws -> T
  ) async throws -> T {
    let directory = dataDirectory ?? temporaryDirectory()
    let routes = try self.pki.routesFile(mode: mode, port: port, in: directory)
    return try await withTestGateway(dataDirectory: directory, clock: clock) {
      configure(&$0)
      $0.handoffs.routesFile = routes
      $0.handoffs.initialBackoffMilliseconds = 50
      $0.handoffs.maximumBackoffMilliseconds = 300
      $0.handoffs.attemptTimeoutMilliseconds = 2000
      $0.handoffs.maximumAttempts = maximumAttempts
    } _: { gateway in
      try await body(gateway)
    }
  }

  /// Registers, collects and digitizes a dossier for agency A; returns its number and the scans'
  /// bytes by document id.
  func digitizedDossier(on gateway: RunningGateway) async throws -> (String, [String: [UInt8]]) {
    let (number, files, _) = try await self.digitizedDossierWithCode(on: gateway)
    return (number, files)
  }

  /// The same, with the citizen's verification code.
  func digitizedDossierWithCode(
    on gateway: RunningGateway
  ) async throws -> (String, [String: [UInt8]], String) {
    try await gateway.withPartnerClient(TestPKI.shared.staff) { counter in
      let registered = try await counter.registerPickup(samplePickup())
      let number = registered.shipment.trackingNumber
      _ = try await counter.recordCollection(collectionRequest(number))
      var files: [String: [UInt8]] = [:]
      for (index, document) in ["TO_KHAI", "GIAY_TO_TUY_THAN"].enumerated() {
        let bytes = pdfBytes(90_000 + index, seed: UInt8(index + 7))
        files[document] = bytes
        _ = try await upload(counter, number: number, documentID: document, bytes: bytes)
      }
      return (number, files, registered.verificationCode)
    }
  }

  func shipment(
    _ number: String,
    on gateway: RunningGateway
  ) async throws
    -> Postalgateway_V1_Shipment
  {
    try await gateway.withPartnerClient(TestPKI.shared.staff) {
      try await $0.getShipment(.with { $0.trackingNumber = number })
    }
  }

  func asAgency<T: Sendable>(
    _ gateway: RunningGateway,
    _ credential: PEMCredential = TestPKI.shared.agency,
    _ body: (AgencyClient) async throws -> T
  ) async throws -> T {
    try await gateway.withClient(port: gateway.partnerPort, credential: credential) {
      try await body(AgencyClient(wrapping: $0))
    }
  }

  func asOperator<T: Sendable>(
    _ gateway: RunningGateway,
    _ body: (OperatorClient) async throws -> T
  ) async throws -> T {
    try await gateway.withClient(port: gateway.partnerPort, credential: self.pki.operator) {
      try await body(OperatorClient(wrapping: $0))
    }
  }

  func handoff(_ id: String, on gateway: RunningGateway) async throws -> Postalgateway_V1_Handoff? {
    try await self.asOperator(gateway) { ops in
      try await ops.listHandoffs(.with { $0.limit = 1000 }).handoffs.first { $0.handoffID == id }
    }
  }

  func channel(on gateway: RunningGateway) async throws -> Postalgateway_V1_ChannelStatus {
    try await self.asOperator(gateway) { ops in
      // The routing file lists agency A, so it is always there.
      try await ops.listChannels(.with { $0.agencyCode = HandoffPKI.agencyA.rawValue }).channels[0]
    }
  }

  static func hex(_ bytes: [UInt8]) -> String {
    SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
  }

  @Test(
    "a digitized dossier is pushed once, its scans download with matching hashes, the receipt files it, and the agency reports the result"
  )
  func pushEndToEnd() async throws {
    let intake = TestAgencyIntake()
    try await withAgencyEndpoint(intake) { port in
      try await self.withRoutedGateway(port: port) { gateway in
        let (number, files) = try await self.digitizedDossier(on: gateway)
        let handoffID = "\(number)-H1"
        let digitized = try await self.shipment(number, on: gateway)
        let queued = try #require(digitized.events.first { $0.type == .digitized })
        #expect(queued.handoffQueued.handoffID == handoffID)
        #expect(queued.handoffQueued.mode == .push)

        // The dispatcher delivers it; the receipt files it and records the appointment.
        let reached1 = try await eventually(on: gateway) {
          try await self.shipment(number, on: gateway).state == .appointmentReceived
        }
        #expect(reached1)
        let filed = try await self.shipment(number, on: gateway)
        let accepted = try #require(filed.events.first { $0.type == .agencyAccepted })
        let receipt = try #require(intake.registered[handoffID])
        #expect(accepted.agencyDecision.dossierCode == receipt.accepted.dossierCode)
        #expect(accepted.agencyDecision.channel == .push)
        #expect(accepted.toState == .handedToAgency)
        // The legal filing time is the agency's receipt time.
        // (kept to the microsecond)
        #expect(accepted.occurredAt.seconds == receipt.accepted.receivedAt.seconds)
        #expect(accepted.occurredAt.nanos / 1000 == receipt.accepted.receivedAt.nanos / 1000)
        #expect(accepted.agencyDecision.appointmentDate == "2026-12-15")
        #expect(intake.calls[handoffID] == 1)
        #expect(intake.registered.count == 1)

        // The package carries the applicant in clear for the competent agency, and the scans.
        let package = try #require(intake.packages[handoffID])
        #expect(package.trackingNumber == number)
        #expect(package.applicant.citizenID == "019084000123")
        #expect(package.feeCollectedVnd == 8000)
        #expect(Set(package.scans.map(\.documentID)) == ["TO_KHAI", "GIAY_TO_TUY_THAN"])

        try await self.asAgency(gateway) { agency in
          // The agency fetches each scan and checks its hash.
          for scan in package.scans {
            let (header, bytes) = try await agency.downloadScan(
              .with { $0.documentCode = scan.documentCode }
            ) { response in
              var header: Postalgateway_V1_ScanDetails?
              var bytes: [UInt8] = []
              for try await part in response.messages {
                switch part.part {
                case .scan(let details): header = details
                case .chunk(let chunk): bytes += chunk
                case nil: break
                }
              }
              return (header, bytes)
            }
            #expect(header?.sha256 == scan.sha256)
            #expect(Self.hex(bytes) == scan.sha256)
            #expect(bytes == files[scan.documentID])
          }
          let dossier = try await agency.getDossier(.with { $0.trackingNumber = number })
          #expect(dossier.handoffID == handoffID)

          // The same acknowledgement by the other channel is applied once; a different one is
          // refused.
          let again = try await agency.acknowledgeHandoff(
            .with {
              $0.requestID = UUID().uuidString
              $0.handoffID = handoffID
              $0.accepted = receipt.accepted
            }
          )
          #expect(again.version == filed.version)
          #expect(again.dossierCode == receipt.accepted.dossierCode)
          let different = await rpcError {
            _ = try await agency.acknowledgeHandoff(
              .with {
                $0.requestID = UUID().uuidString
                $0.handoffID = handoffID
                $0.accepted = receipt.accepted
                $0.accepted.dossierCode = "000.00.00.H55-261129-0999"
              }
            )
          }
          #expect(different?.code == .failedPrecondition)

          // Later, the result.
          let ready = try await agency.reportResultReady(
            .with {
              $0.requestID = UUID().uuidString
              $0.trackingNumber = number
              $0.documents = ["Giấy chứng nhận"]
              $0.papersToRecall = ["Giấy hẹn"]
              $0.feeToCollectVnd = 0
              $0.collectAt = "Bộ phận một cửa tỉnh, 18 Nha Trang"
            }
          )
          #expect(ready.state == .resultReady)
        }
        #expect(intake.calls[handoffID] == 1)
        let channel = try await self.channel(on: gateway)
        #expect(channel.state == .up)
        #expect(channel.queueDepth == 0)
        #expect(channel.mode == .push)
      }
    }
  }

  @Test("endpoint down: attempts back off; once it is up the dossier is delivered exactly once")
  func endpointDownThenUp() async throws {
    let intake = TestAgencyIntake(available: false)
    try await withAgencyEndpoint(intake) { port in
      try await self.withRoutedGateway(port: port) { gateway in
        let (number, _) = try await self.digitizedDossier(on: gateway)
        let handoffID = "\(number)-H1"
        let retried = try await eventually(on: gateway) {
          (try await self.handoff(handoffID, on: gateway)?.attempts ?? 0) >= 3
        }
        #expect(retried)
        let waiting = try await self.channel(on: gateway)
        #expect(waiting.state == .retrying)
        #expect(waiting.queueDepth == 1)
        #expect(!waiting.lastError.isEmpty)
        let pending = try #require(try await self.handoff(handoffID, on: gateway))
        // Backoff: the next attempt is scheduled.
        #expect(timestamp(pending.nextAttemptAt).microseconds > 0)
        #expect(pending.status == .pending)

        intake.setAvailable(true)
        let delivered = try await eventually(on: gateway) {
          try await self.shipment(number, on: gateway).state == .appointmentReceived
        }
        #expect(delivered)
        #expect(intake.registered.count == 1)
        #expect(intake.calls[handoffID] == 1)
        #expect(intake.refused >= 3)
        let after = try await self.channel(on: gateway)
        #expect(after.state == .up)
        #expect(after.queueDepth == 0)
      }
    }
  }

  @Test("the gateway restarted while retrying still delivers the dossier once")
  func restartWhileRetrying() async throws {
    let directory = temporaryDirectory()
    let intake = TestAgencyIntake(available: false)
    try await withAgencyEndpoint(intake) { port in
      let number = try await self.withRoutedGateway(port: port, dataDirectory: directory) {
        gateway in
        let (number, _) = try await self.digitizedDossier(on: gateway)
        let retried = try await eventually(on: gateway) {
          (try await self.handoff("\(number)-H1", on: gateway)?.attempts ?? 0) >= 2
        }
        #expect(retried)
        return number
      }
      intake.setAvailable(true)
      try await self.withRoutedGateway(port: port, dataDirectory: directory) { gateway in
        let delivered = try await eventually(on: gateway) {
          try await self.shipment(number, on: gateway).state == .appointmentReceived
        }
        #expect(delivered)
      }
      #expect(intake.registered.count == 1)
      #expect(intake.calls["\(number)-H1"] == 1)
    }
  }

  @Test("an agency endpoint whose certificate does not chain to its configured CA gets nothing")
  func untrustedServerCertificate() async throws {
    let intake = TestAgencyIntake()
    try await withAgencyEndpoint(intake, credential: self.pki.rogueServer) { port in
      try await self.withRoutedGateway(port: port) { gateway in
        let (number, _) = try await self.digitizedDossier(on: gateway)
        let reached5 = try await eventually(on: gateway) {
          (try await self.handoff("\(number)-H1", on: gateway)?.attempts ?? 0) >= 2
        }
        #expect(reached5)
        let channel = try await self.channel(on: gateway)
        #expect(channel.state == .retrying)
        #expect(!channel.lastError.isEmpty)
        #expect(intake.calls.isEmpty)
        #expect(try await self.shipment(number, on: gateway).state == .digitized)
      }
    }
  }

  @Test(
    "after the attempt limit a handoff is dead-lettered, visible, and an operator retry delivers it"
  )
  func deadLetterAndOperatorRetry() async throws {
    let intake = TestAgencyIntake(available: false)
    try await withAgencyEndpoint(intake) { port in
      try await self.withRoutedGateway(port: port, maximumAttempts: 3) { gateway in
        let (number, _) = try await self.digitizedDossier(on: gateway)
        let handoffID = "\(number)-H1"
        let deadLettered = try await eventually(on: gateway) {
          try await self.handoff(handoffID, on: gateway)?.status == .dead
        }
        #expect(deadLettered)
        let dead = try await self.channel(on: gateway)
        #expect(dead.state == .deadLettered)
        #expect(dead.deadLetters == 1)
        #expect(dead.queueDepth == 0)
        #expect(try await self.handoff(handoffID, on: gateway)?.attempts == 3)

        intake.setAvailable(true)
        // A dead letter is not retried on its own: the dispatcher has nothing scheduled.
        #expect(
          try await gateway.stores.handoffs.nextAttemptTime(agency: HandoffPKI.agencyA) == nil
        )
        #expect(intake.calls.isEmpty)
        try await self.asOperator(gateway) { ops in
          let notDead = await rpcError {
            _ = try await ops.retryHandoff(.with { $0.handoffID = "EA999999995VN-H1" })
          }
          #expect(notDead?.code == .notFound)
          let retried = try await ops.retryHandoff(.with { $0.handoffID = handoffID })
          #expect(retried.status == .pending)
          #expect(retried.attempts == 0)
        }
        let delivered = try await eventually(on: gateway) {
          try await self.shipment(number, on: gateway).state == .appointmentReceived
        }
        #expect(delivered)
        try await self.asOperator(gateway) { ops in
          let again = await rpcError {
            _ = try await ops.retryHandoff(.with { $0.handoffID = handoffID })
          }
          #expect(again?.code == .failedPrecondition)
        }
        #expect(intake.registered.count == 1)
        #expect(try await self.channel(on: gateway).state == .up)
      }
    }
  }

  @Test("an agency's rejection is recorded once and ends the handoff")
  func rejection() async throws {
    let intake = TestAgencyIntake(.reject)
    try await withAgencyEndpoint(intake) { port in
      try await self.withRoutedGateway(port: port) { gateway in
        let (number, _) = try await self.digitizedDossier(on: gateway)
        let reached7 = try await eventually(on: gateway) {
          try await self.shipment(number, on: gateway).state == .rejectedByAgency
        }
        #expect(reached7)
        let shipment = try await self.shipment(number, on: gateway)
        #expect(shipment.events.last?.agencyDecision.reason == "thiếu chữ ký trên tờ khai")
        #expect(shipment.normalizedStatus == .exception)
        #expect(try await self.handoff("\(number)-H1", on: gateway)?.status == .rejected)
      }
    }
  }

  /// Reads `count` notices from a watch started after `cursor`, then disconnects.
  func watch(
    _ agency: AgencyClient,
    after cursor: Int64,
    count: Int
  ) async throws
    -> [Postalgateway_V1_HandoffNotice]
  {
    try await agency.watchHandoffs(.with { $0.afterCursor = cursor }) {
      try await firstMessages(count, of: $0)
    }
  }

  /// Everything a watch from `cursor` delivers up to and including the handoff `marker`
  /// (queued by the caller to end the read: nothing that comes before it is missed).
  func watchUntil(
    _ marker: String,
    _ agency: AgencyClient,
    after cursor: Int64
  ) async throws
    -> [String]
  {
    try await agency.watchHandoffs(.with { $0.afterCursor = cursor }) { response in
      var seen: [String] = []
      for try await notice in response.messages {
        seen.append(notice.dossier.handoffID)
        if notice.dossier.handoffID == marker { break }
      }
      return seen
    }
  }

}
