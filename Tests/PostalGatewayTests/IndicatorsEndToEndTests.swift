import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Proto
import SwiftProtobuf
import Testing
import Tracking

@testable import PostalGateway

/// The plan's indicators as the service aggregates them equal the same shares computed here
/// from the raw shipments, handoffs and ratings.
@Suite("Indicators end to end")
struct IndicatorsEndToEndTests {
  typealias OversightClient = Postalgateway_V1_OversightService.Client<HTTP2ClientTransport.Posix>

  let handoffs = HandoffEndToEndTests()

  @Test("digitization, electronic transfer and satisfaction equal the shares of the raw records")
  func indicatorsMatchTheRawRecords() async throws {
    try await self.handoffs.withRoutedGateway(mode: .pull) { gateway in
      let keys = HandoverKeys()
      try await keys.register(on: gateway)
      let numbers = try await gateway.withPartnerClient(TestPKI.shared.staff) { counter in
        // Digitized only; on paper only; delivered and pleased; delivered and displeased.
        let (digitized, _) = try await self.handoffs.digitizedDossier(on: gateway)
        let paper = try await counter.registerPickup(samplePickup()).shipment.trackingNumber
        _ = try await counter.recordCollection(collectionRequest(paper))
        let dispatched = try await counter.recordEvent(eventRequest(paper, .dispatched))
        var handover = eventRequest(paper, .handedToAgency)
        handover.occurredAt = nowTimestamp()
        handover.handover = try keys.handover(
          dispatched.shipment,
          kind: .handedToAgency,
          occurredAt: handover.occurredAt
        )
        _ = try await counter.recordEvent(handover)
        let pleased = try await RatingEndToEndTests.delivered(counter, keys: keys)
        let displeased = try await RatingEndToEndTests.delivered(counter, keys: keys)
        try await gateway.withCitizenClient { citizen in
          _ = try await citizen.rateService(
            RatingEndToEndTests.rating(pleased.number, pleased.code, overall: 5)
          )
          _ = try await citizen.rateService(
            RatingEndToEndTests.rating(displeased.number, displeased.code, overall: 1)
          )
        }
        // A result-only shipment carries no dossier: digitization does not count it.
        var resultOnly = samplePickup()
        resultOnly.serviceType = .resultOnly
        let result = try await counter.registerPickup(resultOnly).shipment.trackingNumber
        return [digitized, paper, pleased.number, displeased.number, result]
      }

      // The same shares, from the raw records.
      let shipments = try await gateway.withPartnerClient(TestPKI.shared.staff) { counter in
        var all: [Postalgateway_V1_Shipment] = []
        for number in numbers {
          all.append(try await counter.getShipment(.with { $0.trackingNumber = number }))
        }
        return all
      }
      let handedOff = try await self.handoffs.asOperator(gateway) { ops in
        Set(try await ops.listHandoffs(.with { $0.limit = 1000 }).handoffs.map(\.trackingNumber))
      }
      let digitizedCount = shipments.filter { $0.events.contains { $0.type == .digitized } }.count
      let electronic = shipments.filter { handedOff.contains($0.trackingNumber) }.count
      let paperOnly = shipments.filter {
        !handedOff.contains($0.trackingNumber) && $0.events.contains { $0.type == .handedToAgency }
      }.count
      let marks = [5, 1]

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
      #expect(report.rows.map(\.key) == ["250000"])
      let dossiers = shipments.filter { $0.serviceType != .resultOnly }.count
      #expect(row.received == Int32(shipments.count))
      #expect(row.dossiers == Int32(dossiers))
      #expect(row.digitized == Int32(digitizedCount))
      #expect(row.digitizedPercent == 100 * Double(digitizedCount) / Double(dossiers))
      #expect(row.electronicTransfers == Int32(electronic))
      #expect(row.paperOnlyTransfers == Int32(paperOnly))
      #expect(row.electronicPercent == 100 * Double(electronic) / Double(electronic + paperOnly))
      #expect(row.ratings == Int32(marks.count))
      #expect(row.satisfied == Int32(marks.filter { $0 >= 4 }.count))
      #expect(row.meanOverall == Double(marks.reduce(0, +)) / Double(marks.count))
      #expect(row.complaints == 1)
      // The scenario is what it says: 3 of 4 dossiers digitized, 3 of 4 transfers electronic.
      #expect((dossiers, digitizedCount, electronic, paperOnly) == (4, 3, 3, 1))

      // Staff productivity, from the raw events: COLLECTED and DELIVERED per actor and office.
      struct Key: Hashable { var actor: String, office: String }
      var received: [Key: Int32] = [:]
      var deliveredCount: [Key: Int32] = [:]
      for event in shipments.flatMap(\.events) {
        let key = Key(actor: event.actor, office: event.location)
        if event.type == .collected { received[key, default: 0] += 1 }
        if event.type == .delivered { deliveredCount[key, default: 0] += 1 }
      }
      let productivity = try await gateway.withClient(
        port: gateway.partnerPort,
        credential: HandoffPKI.shared.oversight
      ) {
        try await OversightClient(wrapping: $0).getStaffProductivity(
          .with {
            $0.fromDate = today
            $0.toDate = today
          }
        )
      }
      let staffOffices = Set(received.keys).union(deliveredCount.keys)
      #expect(productivity.rows.count == staffOffices.count)
      for row in productivity.rows {
        let key = Key(actor: row.actor, office: row.postOfficeCode)
        #expect(row.dossiersReceived == received[key, default: 0])
        #expect(row.resultsDelivered == deliveredCount[key, default: 0])
        #expect(row.annualisedDossiers == Double(received[key, default: 0]) * 365)
        // Post office 250000 is in Phường Phan Đình Phùng: a ward, so the urban target.
        #expect(row.areaClass == "URBAN" && row.yearlyTarget == 1600)
        #expect(row.meetsTarget == (Double(received[key, default: 0]) * 365 >= 1600))
      }
      #expect(received[Key(actor: HandoverKeys.staffID, office: "250000")] == 4)

      let elsewhere = try await gateway.withClient(
        port: gateway.partnerPort,
        credential: HandoffPKI.shared.oversight
      ) { client in
        let oversight = OversightClient(wrapping: client)
        let empty = try await oversight.getIndicators(
          .with {
            $0.fromDate = "2025-01-01"
            $0.toDate = "2025-01-31"
            $0.groupBy = .agency
          }
        )
        #expect(empty.rows.isEmpty)
        return await rpcError {
          _ = try await oversight.getIndicators(
            .with {
              $0.fromDate = "2026-02-01"
              $0.toDate = "2026-01-01"
              $0.groupBy = .agency
            }
          )
        }
      }
      #expect(elsewhere?.message.hasPrefix("to_date") == true)
    }
  }

  @Test(
    "a post office in a commune the policy lists as remote is held to the 800-dossier target, with the list's source"
  )
  func remoteCommuneGetsTheRemoteTarget() async throws {
    let directory = temporaryDirectory()
    let policy = (directory as NSString).appendingPathComponent("sla-policy.json")
    var json =
      try JSONSerialization.jsonObject(
        with: Data(contentsOf: URL(fileURLWithPath: SlaPolicyFile.bundledPath))
      ) as! [String: Any]
    json["remoteCommunes"] = [
      // Post office 250000's commune; the source is a test's, not a decision.
      "communes": ["05443"], "source": "danh sách thử nghiệm",
    ]
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: policy))
    let usePolicy: (inout GatewayConfiguration) -> Void = { $0.sla.policyFile = policy }
    try await self.handoffs.withRoutedGateway(mode: .pull, configure: usePolicy) { gateway in
      try await gateway.withPartnerClient(TestPKI.shared.staff) { counter in
        let number = try await counter.registerPickup(samplePickup()).shipment.trackingNumber
        _ = try await counter.recordCollection(collectionRequest(number))
      }
      let today = SystemWallClock().now().dateInVietnam.description
      let report = try await gateway.withClient(
        port: gateway.partnerPort,
        credential: HandoffPKI.shared.oversight
      ) {
        try await OversightClient(wrapping: $0).getStaffProductivity(
          .with {
            $0.fromDate = today
            $0.toDate = today
          }
        )
      }
      let row = try #require(report.rows.first)
      #expect(row.postOfficeCode == "250000")
      #expect(row.areaClass == "REMOTE" && row.yearlyTarget == 800)
      #expect(report.legalSource.contains("danh sách thử nghiệm"))
    }
    // A list without the decision that makes it is refused.
    json["remoteCommunes"] = ["communes": ["05443"], "source": ""]
    let map = try AdministrativeMapFile.load(directory: try GatewayDomain.bundledAdminUnits())
    let refused = #expect(throws: (any Error).self) {
      _ = try SlaPolicyFile.decode(try JSONSerialization.data(withJSONObject: json), map: map)
    }
    #expect("\(refused.map { "\($0)" } ?? "")".contains("remoteCommunes needs its source"))
    json["remoteCommunes"] = ["communes": ["99999"], "source": "x"]
    let unknown = #expect(throws: (any Error).self) {
      _ = try SlaPolicyFile.decode(try JSONSerialization.data(withJSONObject: json), map: map)
    }
    #expect("\(unknown.map { "\($0)" } ?? "")".contains("remoteCommunes: 99999"))
  }
}
