import Testing
import Tracking

@Suite("Store contract: lookup digests")
struct PersonLookupContractTests {
  @Test(
    "shipments registered without digests are indexed once, then found by them",
    arguments: WriteBackend.all
  )
  func backfill(_ backend: WriteBackend) async throws {
    let stores = try await backend.open()
    let registered = try await Fixture.register(stores, key: Fixture.key("a")).value.shipment
    let digest: @Sendable (Applicant) -> [String] = { ["digest-of-" + $0.identity.number] }
    let person = "digest-of-" + registered.applicant.identity.number
    let before = try await stores.shipments.shipments(
      matching: ShipmentQuery(filter: .init(person: person), pageSize: 10)
    )
    #expect(before.shipments.isEmpty)
    #expect(try await stores.shipments.indexApplicants(digest) == 1)
    #expect(try await stores.shipments.indexApplicants(digest) == 0)
    let found = try await stores.shipments.shipments(
      matching: ShipmentQuery(filter: .init(person: person), pageSize: 10)
    )
    #expect(found.shipments.map(\.trackingNumber) == [registered.trackingNumber])
    let other = try await stores.shipments.shipments(
      matching: ShipmentQuery(filter: .init(person: "digest-of-someone-else"), pageSize: 10)
    )
    #expect(other.shipments.isEmpty)
  }
}
