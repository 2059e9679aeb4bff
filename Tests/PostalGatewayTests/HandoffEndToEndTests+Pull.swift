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
extension HandoffEndToEndTests {
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

extension HandoffEndToEndTests {
  @Test(
    "a reloaded routing file moves an agency from pull to push: later dossiers are pushed, earlier ones stay on pull"
  )
  func reloadedRoutesStartPushing() async throws {
    let intake = TestAgencyIntake()
    try await withAgencyEndpoint(intake) { port in
      let directory = temporaryDirectory()
      try await self.withRoutedGateway(mode: .pull, dataDirectory: directory) { gateway in
        let (first, _) = try await self.digitizedDossier(on: gateway)
        let queuedFirst = try await self.shipment(first, on: gateway).events.first {
          $0.type == .digitized
        }
        #expect(queuedFirst?.handoffQueued.mode == .pull)

        // What SIGHUP does: the same file, now routing agency A by push to its endpoint.
        _ = try self.pki.routesFile(mode: .push, port: port, in: directory)
        try gateway.gateway.reloadCatalog()

        let (second, _) = try await self.digitizedDossier(on: gateway)
        let queuedSecond = try await self.shipment(second, on: gateway).events.first {
          $0.type == .digitized
        }
        #expect(queuedSecond?.handoffQueued.mode == .push)
        let delivered = try await eventually(on: gateway) {
          try await self.shipment(second, on: gateway).state == .appointmentReceived
        }
        #expect(delivered)
        #expect(intake.calls["\(second)-H1"] == 1)
        #expect(intake.calls["\(first)-H1"] == nil, "a pull handoff is not pushed")
        #expect(try await self.channel(on: gateway).mode == .push)
      }
    }
  }
}
