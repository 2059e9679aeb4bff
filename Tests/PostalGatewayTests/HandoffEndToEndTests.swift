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
    _ body: (RunningGateway) async throws -> T
  ) async throws -> T {
    let directory = dataDirectory ?? temporaryDirectory()
    let routes = try self.pki.routesFile(mode: mode, port: port, in: directory)
    return try await withTestGateway(dataDirectory: directory) {
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

  @Test(
    "pull mode: a watcher that disconnects resumes from its cursor without loss, and sees nothing twice after acknowledging"
  )
  func pullModeResume() async throws {
    try await self.withRoutedGateway(mode: .pull) { gateway in
      let (first, _) = try await self.digitizedDossier(on: gateway)
      try await self.asAgency(gateway) { agency in
        let initial = try await self.watch(agency, after: 0, count: 1)
        #expect(initial.map(\.dossier.handoffID) == ["\(first)-H1"])
        #expect(initial[0].dossier.scans.count == 2)
        let cursor = initial[0].cursor

        // Queued while the agency is away; the resumed watch starts right after the cursor.
        let (second, _) = try await self.digitizedDossier(on: gateway)
        let resumed = try await self.watch(agency, after: cursor, count: 1)
        #expect(resumed.map(\.dossier.handoffID) == ["\(second)-H1"])

        // Accept the first; from the beginning, only the second is still offered.
        let accepted = try await agency.acknowledgeHandoff(
          .with {
            $0.requestID = UUID().uuidString
            $0.handoffID = "\(first)-H1"
            $0.accepted = .with {
              $0.dossierCode = "000.00.00.H55-261129-0042"
              $0.receivedAt = Google_Protobuf_Timestamp(date: Date())
            }
          }
        )
        #expect(accepted.state == .handedToAgency)
        let (marker, _) = try await self.digitizedDossier(on: gateway)
        #expect(
          try await self.watchUntil("\(marker)-H1", agency, after: 0)
            == ["\(second)-H1", "\(marker)-H1"]
        )

        // A malformed dossier code names the field and changes nothing.
        let malformed = await rpcError {
          _ = try await agency.acknowledgeHandoff(
            .with {
              $0.requestID = UUID().uuidString
              $0.handoffID = "\(second)-H1"
              $0.accepted = .with {
                $0.dossierCode = "H55-2611-42"
                $0.receivedAt = Google_Protobuf_Timestamp(date: Date())
              }
            }
          )
        }
        #expect(malformed?.code == .invalidArgument)
        #expect(malformed?.message.contains("accepted.dossier_code") == true)
        #expect(try await self.shipment(second, on: gateway).state == .digitized)

        // A supplement request pauses the first until staff deliver the supplement.
        let paused = try await agency.requestSupplement(
          .with {
            $0.requestID = UUID().uuidString
            $0.trackingNumber = first
            $0.missingItems = ["Bản sao giấy khai sinh"]
            $0.reason = "Thiếu giấy tờ chứng minh quan hệ"
          }
        )
        #expect(paused.state == .supplementRequested)
      }
      let resumedProcessing = try await gateway.withPartnerClient(TestPKI.shared.staff) {
        try await $0.recordEvent(eventRequest(first, .supplementDelivered))
      }
      #expect(resumedProcessing.shipment.state == .handedToAgency)
      #expect(try await self.channel(on: gateway).mode == .pull)
    }
  }

  @Test(
    "the citizen sees the agency's due date in working time while it processes; a supplement request hides it and its delivery restarts it"
  )
  func citizenSeesTheAgencyDeadline() async throws {
    try await self.withRoutedGateway(mode: .pull) { gateway in
      let (number, _, code) = try await self.digitizedDossierWithCode(on: gateway)
      func track() async throws -> Postalgateway_V1_TrackedShipment {
        try await gateway.track(number, code: code)
      }
      #expect(try await track().hasAgencyDeadline == false)
      let filedAt = Date()
      _ = try await self.asAgency(gateway) { agency in
        try await agency.acknowledgeHandoff(
          .with {
            $0.requestID = UUID().uuidString
            $0.handoffID = "\(number)-H1"
            $0.accepted = .with {
              $0.dossierCode = "000.00.00.H55-261129-0007"
              $0.receivedAt = Google_Protobuf_Timestamp(date: filedAt)
            }
          }
        )
      }
      let calculator = DeadlineCalculator(
        calendar: try CalendarFiles.load(directory: try GatewayDomain.bundledCalendars())
      )
      let days = try #require(
        gateway.gateway.catalog.current.procedure(try ProcedureCode(validating: "2.000635"))
      ).processingWorkingDays
      let expected = calculator.agencyProcessing(
        filedAt: Timestamp(microseconds: Int64(filedAt.timeIntervalSince1970 * 1_000_000)),
        workingDays: days
      )
      let tracked = try await track()
      #expect(tracked.agencyDeadline.dueDate == expected.due.description)
      #expect(Int(tracked.agencyDeadline.workingDays) == days)
      #expect(tracked.agencyDeadline.calendarVersions == expected.calendarVersions)
      #expect(!tracked.agencyDeadline.calendarVersions.isEmpty)

      // The oversight office sees how it was computed; staff may not ask.
      let explained = try await gateway.withClient(
        port: gateway.partnerPort,
        credential: self.pki.oversight
      ) {
        try await Postalgateway_V1_OversightService.Client(wrapping: $0).explainDeadline(
          .with { $0.trackingNumber = number }
        )
      }
      #expect(explained.dueDate == expected.due.description)
      #expect(explained.calendarVersions == expected.calendarVersions)
      #expect(explained.startedByEventType == "AGENCY_ACCEPTED")
      #expect(explained.catalogVersion == gateway.gateway.catalog.current.version)
      #expect(explained.steps.last?.contains("due by the end of \(expected.due)") == true)
      let staffAsks = await rpcError {
        try await gateway.withClient(port: gateway.partnerPort, credential: TestPKI.shared.staff) {
          _ = try await Postalgateway_V1_OversightService.Client(wrapping: $0).explainDeadline(
            .with { $0.trackingNumber = number }
          )
        }
      }
      #expect(staffAsks?.code == .permissionDenied)

      _ = try await self.asAgency(gateway) { agency in
        try await agency.requestSupplement(
          .with {
            $0.requestID = UUID().uuidString
            $0.trackingNumber = number
            $0.missingItems = ["Bản sao giấy khai sinh"]
            $0.reason = "Thiếu giấy tờ"
          }
        )
      }
      #expect(try await track().hasAgencyDeadline == false)
      let paused = await rpcError {
        try await gateway.withClient(port: gateway.partnerPort, credential: self.pki.oversight) {
          _ = try await Postalgateway_V1_OversightService.Client(wrapping: $0).explainDeadline(
            .with { $0.trackingNumber = number }
          )
        }
      }
      #expect(paused?.code == .failedPrecondition)
      let delivered = try await gateway.withPartnerClient(TestPKI.shared.staff) {
        try await $0.recordEvent(eventRequest(number, .supplementDelivered))
      }
      let restarted = calculator.agencyProcessing(
        filedAt: Timestamp(
          seconds: delivered.event.occurredAt.seconds,
          nanoseconds: delivered.event.occurredAt.nanos
        ),
        workingDays: days
      )
      #expect(try await track().agencyDeadline.dueDate == restarted.due.description)
    }
  }

  @Test("agency B can neither see nor act on agency A's dossier; staff cannot use AgencyService")
  func agenciesSeeOnlyTheirOwnDossiers() async throws {
    try await self.withRoutedGateway(mode: .pull) { gateway in
      let (number, _) = try await self.digitizedDossier(on: gateway)
      let documentCode = try await self.shipment(number, on: gateway).events.first {
        $0.type == .scanned
      }!.scan.documentCode
      try await self.asAgency(gateway, self.pki.otherAgency) { agencyB in
        let calls: [(String, () async throws -> Void)] = [
          (
            "GetDossier", { _ = try await agencyB.getDossier(.with { $0.trackingNumber = number }) }
          ),
          (
            "AcknowledgeHandoff",
            {
              _ = try await agencyB.acknowledgeHandoff(
                .with {
                  $0.requestID = UUID().uuidString
                  $0.handoffID = "\(number)-H1"
                  $0.rejected = .with { $0.reason = "not ours" }
                }
              )
            }
          ),
          (
            "DownloadScan",
            {
              try await agencyB.downloadScan(.with { $0.documentCode = documentCode }) { response in
                for try await _ in response.messages {}
              }
            }
          ),
          (
            "RequestSupplement",
            {
              _ = try await agencyB.requestSupplement(
                .with {
                  $0.requestID = UUID().uuidString
                  $0.trackingNumber = number
                  $0.missingItems = ["x"]
                  $0.reason = "y"
                }
              )
            }
          ),
        ]
        for (name, call) in calls {
          let error = await rpcError(call)
          #expect(error?.code == .notFound, "\(name)")
        }
        // B's pull stream serves what the outbox holds for B: nothing.
        let forB = try await gateway.stores.handoffs.pendingHandoffs(
          agency: HandoffPKI.agencyB,
          after: 0,
          limit: 100
        )
        #expect(forB.isEmpty)
      }
      #expect(try await self.shipment(number, on: gateway).state == .digitized)
      let staff = await rpcError {
        try await gateway.withClient(port: gateway.partnerPort, credential: TestPKI.shared.staff) {
          _ = try await AgencyClient(wrapping: $0).getDossier(.with { $0.trackingNumber = number })
        }
      }
      #expect(staff?.code == .permissionDenied)
    }
  }
}
