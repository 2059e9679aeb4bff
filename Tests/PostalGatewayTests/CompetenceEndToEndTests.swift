import Foundation
import GRPCCore
import Proto
import SwiftProtobuf
import Testing
import Tracking

@testable import PostalGateway

/// Procedures decided at the province or at the commune since the two-level reform, with the
/// competent agency of each level, through the real API over mutual TLS and the bundled catalog.
@Suite("Procedures at the right level, with the competent agency")
struct CompetenceEndToEndTests {
  let pki = TestPKI.shared

  static func birth(livingIn commune: String) -> Postalgateway_V1_RegisterPickupRequest {
    var request = samplePickup()
    request.procedureCode = "1.001193"
    request.destinationAgencyCode = ""
    request.applicant.address.communeCode = commune
    return request
  }

  @Test("the counter sees each level, its deciding authority, its source and its agencies")
  func levelsAreShown() async throws {
    try await withTestGateway { gateway in
      try await gateway.withPartnerClient(self.pki.staff) { counter in
        let birth = try await counter.getProcedure(.with { $0.procedureCode = "1.001193" })
        #expect(birth.competence.map(\.level) == [.commune])
        let commune = try #require(birth.competence.first)
        #expect(commune.legalSource.contains("Luật Hộ tịch 2014 art. 13.1"))
        #expect(commune.authority.contains("UBND cấp xã"))
        #expect(
          commune.agencies.contains { $0.communeCode == "05500" && $0.name.contains("Tích Lương") }
        )
        #expect(Set(birth.agencyCodes) == Set(commune.agencies.map(\.code)))

        let copies = try await counter.getProcedure(.with { $0.procedureCode = "2.000635" })
        #expect(copies.competence.map(\.level) == [.province, .commune])
        #expect(copies.competence.first?.agencies.map(\.code) == ["000.00.00.H55"])

        let land = try await counter.getProcedure(.with { $0.procedureCode = "1.011442" })
        #expect(land.competence.map(\.level) == [.province])
        #expect(land.competence.first?.agencies.allSatisfy { $0.communeCode.isEmpty } == true)
      }
    }
  }

  @Test("a commune-level dossier goes to the people's committee of the applicant's commune")
  func communeByResidence() async throws {
    try await withTestGateway { gateway in
      try await gateway.withPartnerClient(self.pki.staff) { counter in
        let tichLuong = try await counter.registerPickup(Self.birth(livingIn: "05500")).shipment
        #expect(tichLuong.destinationAgencyCode == "000.00.62.H55")
        let phanDinhPhung = try await counter.registerPickup(Self.birth(livingIn: "05443"))
          .shipment
        #expect(phanDinhPhung.destinationAgencyCode == "000.00.61.H55")
        // A province-level procedure still goes to the province's centre.
        var copies = samplePickup()
        copies.destinationAgencyCode = ""
        #expect(
          try await counter.registerPickup(copies).shipment.destinationAgencyCode
            == "000.00.00.H55"
        )
      }
    }
  }

  @Test(
    "an agency of the wrong level, or a commune no listed agency serves, is refused by field and stores nothing"
  )
  func wrongLevelRefused() async throws {
    try await withTestGateway { gateway in
      try await gateway.withPartnerClient(self.pki.staff) { counter in
        var province = Self.birth(livingIn: "05500")
        province.destinationAgencyCode = "000.00.00.H55"
        let wrongLevel = await rpcError { _ = try await counter.registerPickup(province) }
        #expect(wrongLevel?.code == .invalidArgument)
        #expect(wrongLevel?.message.hasPrefix("destination_agency_code") == true)
        #expect(wrongLevel?.message.hasSuffix("decided at level COMMUNE") == true)

        // Xã Bằng Thành (01864) is on the map, but the sample lists no agency serving it.
        let unserved = Self.birth(livingIn: "01864")
        let refused = await rpcError { _ = try await counter.registerPickup(unserved) }
        #expect(refused?.code == .invalidArgument)
        #expect(refused?.message.hasPrefix("destination_agency_code: is needed") == true)
        #expect(refused?.message.contains("01864") == true)

        // Retrying the same request ids with a competent agency succeeds: nothing was stored.
        province.destinationAgencyCode = "000.00.62.H55"
        let retried = try await counter.registerPickup(province).shipment
        #expect(retried.destinationAgencyCode == "000.00.62.H55")
        var named = unserved
        named.destinationAgencyCode = "000.00.64.H55"
        let chosen = try await counter.registerPickup(named).shipment
        #expect(chosen.destinationAgencyCode == "000.00.64.H55")
      }
    }
  }

  @Test("a catalog agency without a place in the SLA policy stops the start, naming both files")
  func agencyWithoutPlace() throws {
    var json = try #require(
      try JSONSerialization.jsonObject(with: try CatalogFile.bundledSample) as? [String: Any]
    )
    var agencies = try #require(json["agencies"] as? [[String: Any]])
    agencies.append([
      "code": "000.00.65.H55", "name": "UBND phường mới", "level": "COMMUNE", "commune": "05443",
    ])
    json["agencies"] = agencies
    let catalog = try CatalogFile.decode(try JSONSerialization.data(withJSONObject: json))
    let map = try AdministrativeMapFile.load(directory: try GatewayDomain.bundledAdminUnits())
    let policy = try SlaPolicyFile.load(path: try GatewayDomain.bundledSlaPolicy(), map: map).policy
    #expect(throws: ConfigurationError.self) {
      try GatewayDomain.checkPlaces(of: catalog, file: "c.json", in: policy, policyFile: "p.json")
    }
    do {
      try GatewayDomain.checkPlaces(of: catalog, file: "c.json", in: policy, policyFile: "p.json")
    } catch {
      #expect("\(error)".contains("agencies 000.00.65.H55 have no place in the SLA policy p.json"))
    }
    let sample = try CatalogFile.decode(try CatalogFile.bundledSample)
    try GatewayDomain.checkPlaces(of: sample, file: "c.json", in: policy, policyFile: "p.json")
  }

  @Test("a catalog in the format without levels is refused with what replaced it")
  func flatAgenciesRefused() throws {
    let path = (temporaryDirectory() as NSString).appendingPathComponent("catalog.json")
    try Data(
      """
      { "version": "t", "agencies": [], "procedures": [ { "code": "2.000635", "name": "x",
        "agencies": ["000.00.00.H55"], "documents": [], "processingWorkingDays": 1,
        "feeVND": 0, "postalEligible": true, "inPersonOnly": false, "sameDay": false } ] }
      """.utf8
    ).write(to: URL(fileURLWithPath: path))
    #expect(throws: ConfigurationError.self) { _ = try CatalogFile.load(path: path) }
    do {
      _ = try CatalogFile.load(path: path)
    } catch {
      #expect("\(error)".contains("needs \"levels\""))
    }
  }
}
