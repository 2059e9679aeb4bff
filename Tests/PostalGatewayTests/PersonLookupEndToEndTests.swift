import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Proto
import SwiftProtobuf
import TestProcesses
import Testing
import Tracking

@testable import PostalGateway

/// Staff find an applicant's shipments by citizen id, passport number or phone through a blind
/// index: the database holds keyed digests, never the values it is searched by.
@Suite("Staff lookup by person through the blind index")
struct PersonLookupEndToEndTests {
  let pki = TestPKI.shared

  @Test(
    "by citizen id, by an authorised person's id and by phone: exactly that person's shipments",
    .sqliteOnly
  )
  func lookups() async throws {
    try await withTestGateway { gateway in
      try await gateway.withPartnerClient(self.pki.staff) { counter in
        var an = samplePickup(citizenID: "019084000123")
        an.applicant.phone = "0912 345 678"
        let first = try await counter.registerPickup(an).shipment.trackingNumber
        an.requestID = UUID().uuidString
        let second = try await counter.registerPickup(an).shipment.trackingNumber
        var binh = samplePickup(citizenID: "019185000777", name: "Trần Thị Bình")
        binh.applicant.phone = "0987654321"
        binh.applicant.authorizedPerson = .with {
          $0.fullName = "Lê Văn Cường"
          $0.citizenID = "019090000456"
        }
        let third = try await counter.registerPickup(binh).shipment.trackingNumber

        func numbers(
          _ configure: (inout Postalgateway_V1_ListShipmentsRequest) -> Void
        )
          async throws -> Set<String>
        {
          var request = Postalgateway_V1_ListShipmentsRequest()
          configure(&request)
          return Set(try await counter.listShipments(request).shipments.map(\.trackingNumber))
        }
        #expect(
          try await numbers { $0.applicantIdentityNumber = "019084000123" } == [first, second]
        )
        #expect(try await numbers { $0.applicantIdentityNumber = " 019 185 000 777" } == [third])
        #expect(try await numbers { $0.applicantIdentityNumber = "019090000456" } == [third])
        #expect(try await numbers { $0.applicantPhone = "+84 987 654 321" } == [third])
        #expect(try await numbers { $0.applicantPhone = "0912345678" } == [first, second])
        #expect(try await numbers { $0.applicantIdentityNumber = "019000000000" }.isEmpty)

        // Pages keep the filter: a token is refused with another person.
        var paged = Postalgateway_V1_ListShipmentsRequest()
        paged.applicantIdentityNumber = "019084000123"
        paged.pageSize = 1
        let page = try await counter.listShipments(paged)
        #expect(page.shipments.count == 1 && !page.nextPageToken.isEmpty)
        paged.pageToken = page.nextPageToken
        paged.applicantIdentityNumber = "019185000777"
        let mixed = await rpcError { _ = try await counter.listShipments(paged) }
        #expect(mixed?.message.hasPrefix("page_token") == true)

        let both = await rpcError {
          _ = try await counter.listShipments(
            .with {
              $0.applicantIdentityNumber = "019084000123"
              $0.applicantPhone = "0912345678"
            }
          )
        }
        #expect(both?.code == .invalidArgument)
        #expect(both?.message.hasPrefix("applicant_phone") == true)
        let badPhone = await rpcError {
          _ = try await counter.listShipments(.with { $0.applicantPhone = "12" })
        }
        #expect(badPhone?.message.hasPrefix("applicant_phone") == true)
      }
      // The database keeps digests only.
      let database = (gateway.dataDirectory as NSString).appendingPathComponent(
        "postal-gateway.sqlite"
      )
      let digests = try SQLiteTool.run(database, "SELECT digest FROM person_lookup")
      #expect(digests.split(separator: "\n").count == 7)  // 2 + 2 + 3, each shipment its own
      for value in ["019084000123", "019185000777", "019090000456", "84912345678", "0987654321"] {
        #expect(!digests.contains(value))
      }
    }
  }
}

/// A data subject's access request through the oversight office.
@Suite("Subject access export")
struct SubjectAccessEndToEndTests {
  typealias OversightClient = Postalgateway_V1_OversightService.Client<HTTP2ClientTransport.Posix>

  @Test(
    "the export holds exactly that person's shipments in full and who read them, and is itself audited"
  )
  func export() async throws {
    try await withTestGateway { gateway in
      let (mine, other) = try await gateway.withPartnerClient(TestPKI.shared.staff) { counter in
        let mine = try await counter.registerPickup(samplePickup(citizenID: "019084000123"))
        _ = try await counter.recordCollection(collectionRequest(mine.shipment.trackingNumber))
        let other = try await counter.registerPickup(
          samplePickup(citizenID: "019185000777", name: "Trần Thị Bình")
        )
        _ = try await counter.getShipment(
          .with {
            $0.trackingNumber = mine.shipment.trackingNumber
            $0.purpose = "công dân hỏi tại quầy"
          }
        )
        return (mine.shipment.trackingNumber, other.shipment.trackingNumber)
      }
      try await gateway.withClient(
        port: gateway.partnerPort,
        credential: HandoffPKI.shared.oversight
      ) { client in
        let oversight = OversightClient(wrapping: client)
        let export = try await oversight.exportPersonalData(
          .with {
            $0.applicantIdentityNumber = "019084000123"
            $0.purpose = "yêu cầu số 12/2026"
          }
        )
        #expect(export.shipments.map(\.trackingNumber) == [mine])
        #expect(export.shipments.first?.applicant.citizenID == "019084000123")
        #expect(export.shipments.first?.events.map(\.type) == [.registered, .collected])
        #expect(export.accessRecords.map(\.read) == [.shipment])
        #expect(!export.shipments.contains { $0.trackingNumber == other })

        let audit = try await oversight.listAccessRecords(.with { $0.trackingNumber = mine })
        #expect(audit.records.first?.read == .export)
        #expect(audit.records.first?.purpose == "yêu cầu số 12/2026")

        let noPurpose = await rpcError {
          _ = try await oversight.exportPersonalData(
            .with { $0.applicantIdentityNumber = "019084000123" }
          )
        }
        #expect(noPurpose?.message.hasPrefix("purpose") == true)
        let neither = await rpcError {
          _ = try await oversight.exportPersonalData(.with { $0.purpose = "x" })
        }
        #expect(neither?.message.hasPrefix("applicant_identity_number") == true)
      }
      let staff = await rpcError {
        _ = try await gateway.withClient(
          port: gateway.partnerPort,
          credential: TestPKI.shared.staff
        ) {
          try await OversightClient(wrapping: $0).exportPersonalData(
            .with {
              $0.applicantPhone = "0912345678"
              $0.purpose = "x"
            }
          )
        }
      }
      #expect(staff?.code == .permissionDenied)
    }
  }
}
