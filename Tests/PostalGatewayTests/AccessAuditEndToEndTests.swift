import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Proto
import SwiftProtobuf
import Testing
import Tracking

@testable import PostalGateway

/// Every read of unmasked personal data leaves a record the oversight office reads: staff
/// lookups and listings, scan downloads and agency dossier packages, over mutual TLS.
@Suite("Access audit end to end")
struct AccessAuditEndToEndTests {
  typealias OversightClient = Postalgateway_V1_OversightService.Client<HTTP2ClientTransport.Posix>

  let handoffs = HandoffEndToEndTests()

  func records(
    _ gateway: RunningGateway,
    _ request: Postalgateway_V1_ListAccessRecordsRequest = .init()
  ) async throws -> [Postalgateway_V1_AccessRecord] {
    try await gateway.withClient(port: gateway.partnerPort, credential: HandoffPKI.shared.oversight)
    {
      try await OversightClient(wrapping: $0).listAccessRecords(request).records
    }
  }

  @Test(
    "a staff lookup, a listing, a scan download and an agency's dossier package are each recorded with who, what and why"
  )
  func readsAreRecorded() async throws {
    try await self.handoffs.withRoutedGateway(mode: .pull) { gateway in
      let (number, _) = try await self.handoffs.digitizedDossier(on: gateway)
      #expect(try await self.records(gateway).isEmpty, "registering and scanning read nothing")
      let documentCode = try await gateway.withPartnerClient(TestPKI.shared.staff) { counter in
        let shipment = try await counter.getShipment(
          .with {
            $0.trackingNumber = number
            $0.purpose = "công dân hỏi tại quầy"
          }
        )
        _ = try await counter.listShipments(.with { $0.purpose = "đối soát cuối ngày" })
        let code = try #require(shipment.events.first { $0.type == .scanned }?.scan.documentCode)
        try await counter.downloadScan(
          .with {
            $0.documentCode = code
            $0.purpose = "in lại bản chụp"
          }
        ) { for try await _ in $0.messages {} }
        return code
      }
      _ = try await self.handoffs.asAgency(gateway) {
        try await $0.getDossier(.with { $0.trackingNumber = number })
      }

      let all = try await self.records(gateway)
      #expect(all.map(\.read) == [.dossier, .scan, .listing, .shipment])
      #expect(all.map(\.sequence) == [4, 3, 2, 1])
      #expect(all.allSatisfy { $0.trackingNumber == number })
      #expect(all[0].actor == HandoverKeys.agencyID)
      #expect(all[0].purpose.isEmpty, "no purpose given is recorded as such")
      #expect(all[1].documentCode == documentCode)
      #expect(all[1].purpose == "in lại bản chụp")
      #expect(all[3].actor == HandoverKeys.staffID)
      #expect(all[3].purpose == "công dân hỏi tại quầy")

      let byAgency = try await self.records(gateway, .with { $0.actor = HandoverKeys.agencyID })
      #expect(byAgency.map(\.read) == [.dossier])
      let page = try await gateway.withClient(
        port: gateway.partnerPort,
        credential: HandoffPKI.shared.oversight
      ) {
        try await OversightClient(wrapping: $0).listAccessRecords(.with { $0.pageSize = 3 })
      }
      #expect(page.records.count == 3)
      let rest = try await self.records(gateway, .with { $0.pageToken = page.nextPageToken })
      #expect(rest.map(\.sequence) == [1])
    }
  }

  @Test(
    "a bad purpose is refused by name and nothing is read or recorded; staff cannot read the audit"
  )
  func refusals() async throws {
    try await withTestGateway { gateway in
      let number = try await gateway.withPartnerClient(TestPKI.shared.staff) { counter in
        let number = try await counter.registerPickup(samplePickup()).shipment.trackingNumber
        for purpose in [String(repeating: "x", count: 201), "a\u{7}b"] {
          let refused = await rpcError {
            _ = try await counter.getShipment(
              .with {
                $0.trackingNumber = number
                $0.purpose = purpose
              }
            )
          }
          #expect(refused?.code == .invalidArgument)
          #expect(refused?.message.hasPrefix("purpose") == true)
        }
        return number
      }
      let staffReading = await rpcError {
        _ = try await gateway.withClient(
          port: gateway.partnerPort,
          credential: TestPKI.shared.staff
        ) {
          try await OversightClient(wrapping: $0).listAccessRecords(.init())
        }
      }
      #expect(staffReading?.code == .permissionDenied)
      let records = try await self.records(gateway, .with { $0.trackingNumber = number })
      #expect(records.isEmpty)
      let badToken = await rpcError {
        _ = try await self.records(gateway, .with { $0.pageToken = "x" })
      }
      #expect(badToken?.message.hasPrefix("page_token") == true)
    }
  }
}
