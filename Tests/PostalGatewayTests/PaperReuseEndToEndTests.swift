import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Persistence
import Proto
import SwiftProtobuf
import Testing
import Tracking

@testable import PostalGateway

/// A dossier item recorded by the code of a paper digitized for an earlier dossier of the same
/// applicant: checked, counted as digitized, custody-logged, served, and counted in the plan's
/// reuse indicator.
@Suite("Paper reuse end to end")
struct PaperReuseEndToEndTests {
  typealias CounterClient = Postalgateway_V1_CounterService.Client<HTTP2ClientTransport.Posix>
  typealias OversightClient = Postalgateway_V1_OversightService.Client<HTTP2ClientTransport.Posix>

  let handoffs = HandoffEndToEndTests()

  func reuse(
    _ number: String,
    _ documentID: String,
    _ code: String,
    requestID: String = UUID().uuidString
  ) -> Postalgateway_V1_ReusePaperRequest {
    .with {
      $0.requestID = requestID
      $0.trackingNumber = number
      $0.documentID = documentID
      $0.documentCode = code
    }
  }

  @Test(
    "a paper of the same applicant is reused by its code: the item is digitized with the same file, once, and the indicator counts it"
  )
  func reusedPaperCountsAsDigitized() async throws {
    try await self.handoffs.withRoutedGateway(mode: .pull) { gateway in
      // The first dossier: both items scanned.
      let (first, files) = try await self.handoffs.digitizedDossier(on: gateway)
      let (second, reused) = try await gateway.withPartnerClient(TestPKI.shared.staff) {
        counter in
        let earlier = try await counter.getShipment(.with { $0.trackingNumber = first })
        let identityCode = try #require(
          earlier.events.first { $0.scan.documentID == "GIAY_TO_TUY_THAN" }?.scan.documentCode
        )
        // The same citizen comes back: the form is scanned, the identity paper is reused.
        let second = try await counter.registerPickup(samplePickup()).shipment.trackingNumber
        _ = try await counter.recordCollection(collectionRequest(second))
        _ = try await upload(
          counter,
          number: second,
          documentID: "TO_KHAI",
          bytes: pdfBytes(70_000, seed: 3)
        )
        let requestID = UUID().uuidString
        let reused = try await counter.reusePaper(
          self.reuse(second, "GIAY_TO_TUY_THAN", identityCode, requestID: requestID)
        )
        #expect(reused.created)
        #expect(reused.scan.reusedFrom == identityCode)
        #expect(reused.scan.documentCode != identityCode)
        #expect(
          reused.scan.sha256
            == earlier.events.first { $0.scan.documentCode == identityCode }?.scan.sha256
        )
        // The last missing item: the dossier is digitized, as after a scan.
        #expect(reused.shipment.state == .digitized)
        #expect(reused.shipment.events.suffix(2).map(\.type) == [.scanned, .digitized])

        // A retry is answered the same; the same body under another id records nothing new.
        let retry = try await counter.reusePaper(
          self.reuse(second, "GIAY_TO_TUY_THAN", identityCode, requestID: requestID)
        )
        #expect(retry.scan.documentCode == reused.scan.documentCode)
        let again = try await counter.reusePaper(
          self.reuse(second, "GIAY_TO_TUY_THAN", identityCode)
        )
        #expect(!again.created)
        #expect(again.shipment.events.count == reused.shipment.events.count)
        let changed = await rpcError {
          _ = try await counter.reusePaper(
            self.reuse(second, "TO_KHAI", identityCode, requestID: requestID)
          )
        }
        #expect(changed?.code == .alreadyExists)
        return (second, reused.scan)
      }

      // The reused item serves the same bytes under its own code.
      let bytes = try await gateway.withPartnerClient(TestPKI.shared.staff) { counter in
        try await counter.downloadScan(
          .with {
            $0.documentCode = reused.documentCode
            $0.purpose = "kiểm tra giấy tờ tái sử dụng"
          }
        ) { response in
          var data: [UInt8] = []
          for try await part in response.messages {
            if case .chunk(let chunk) = part.part { data += chunk }
          }
          return data
        }
      }
      #expect(bytes == files["GIAY_TO_TUY_THAN"])

      // The indicator: 4 items recorded, 1 reused, in 1 of 2 dossiers.
      let today = SystemWallClock().now().dateInVietnam.description
      let report = try await gateway.withClient(
        port: gateway.partnerPort,
        credential: HandoffPKI.shared.oversight
      ) {
        try await OversightClient(wrapping: $0).getIndicators(
          .with {
            $0.fromDate = today
            $0.toDate = today
            $0.groupBy = .postOffice
          }
        )
      }
      let row = try #require(report.rows.first)
      #expect(row.papers == 4)
      #expect(row.reusedPapers == 1)
      #expect(row.reusedPercent == 25)
      #expect(row.dossiersWithReuse == 1)
      #expect(row.digitized == 2)

      // The custody log holds the reuse and still verifies.
      let audit = try await CustodyLogAudit(
        store: gateway.stores.custody,
        verifier: try NoteVerifier(gateway.gateway.verifierKey)
      ).run()
      #expect(audit.problem == nil)
      _ = second
    }
  }

  @Test(
    "a reuse is refused for an unknown code, another applicant's paper, a paper of the same dossier or an item not handed over, and changes nothing"
  )
  func reuseIsRefusedWithTheReason() async throws {
    try await self.handoffs.withRoutedGateway(mode: .pull) { gateway in
      let (first, _) = try await self.handoffs.digitizedDossier(on: gateway)
      try await gateway.withPartnerClient(TestPKI.shared.staff) { counter in
        let earlier = try await counter.getShipment(.with { $0.trackingNumber = first })
        let code = try #require(earlier.events.first { $0.type == .scanned }?.scan.documentCode)
        let stranger = try await counter.registerPickup(
          samplePickup(citizenID: "019084000999", name: "Trần Thị Bình")
        ).shipment.trackingNumber
        _ = try await counter.recordCollection(collectionRequest(stranger))
        let before = try await counter.getShipment(.with { $0.trackingNumber = stranger })

        let unknown = await rpcError {
          _ = try await counter.reusePaper(self.reuse(stranger, "TO_KHAI", "KHONG-CO-MA-NAY"))
        }
        #expect(unknown?.code == .notFound)
        #expect(unknown?.message.contains("document_code") == true)
        let other = await rpcError {
          _ = try await counter.reusePaper(self.reuse(stranger, "TO_KHAI", code))
        }
        #expect(other?.code == .permissionDenied)
        #expect(other?.message.contains("another applicant") == true)
        let own = await rpcError {
          _ = try await counter.reusePaper(self.reuse(first, "TO_KHAI", code))
        }
        #expect(own?.code == .invalidArgument)
        #expect(own?.message.contains("document_code") == true)
        let missing = await rpcError {
          _ = try await counter.reusePaper(self.reuse(stranger, "", ""))
        }
        #expect(missing?.code == .invalidArgument)
        #expect(missing?.message.contains("document_id") == true)
        #expect(missing?.message.contains("document_code") == true)

        // The same applicant, an item not handed over with the new dossier.
        let same = try await counter.registerPickup(samplePickup()).shipment.trackingNumber
        _ = try await counter.recordCollection(collectionRequest(same))
        let notHanded = await rpcError {
          _ = try await counter.reusePaper(self.reuse(same, "SO_HO_KHAU", code))
        }
        #expect(notHanded?.code == .invalidArgument)
        #expect(notHanded?.message.contains("document_id") == true)
        // Before collection there is nothing to digitize.
        let registered = try await counter.registerPickup(samplePickup()).shipment.trackingNumber
        let early = await rpcError {
          _ = try await counter.reusePaper(self.reuse(registered, "TO_KHAI", code))
        }
        #expect(early?.code == .failedPrecondition)

        let after = try await counter.getShipment(.with { $0.trackingNumber = stranger })
        #expect(after.events.count == before.events.count)
        #expect(after.state == before.state)
      }
    }
  }
}
