import Testing
import Tracking

@Suite("Store contract: the access audit")
struct AccessAuditContractTests {
  static let first = try! TrackingNumber(validating: "EA000000005VN")
  static let second = try! TrackingNumber(validating: "EA000000014VN")

  @Test(
    "records are numbered in order and listed newest first, by shipment, by caller and by page",
    arguments: WriteBackend.all
  )
  func appendAndQuery(_ backend: WriteBackend) async throws {
    let stores = try await backend.open()
    let auditor = AccessAuditor(store: stores.accessAudit)
    let clerk = "spiffe://test/staff/clerk"
    let agency = "spiffe://test/agency/000.00.00.H55"
    try await auditor.record(
      .listing,
      of: [Self.first, Self.second],
      by: clerk,
      purpose: "morning round",
      now: Timestamp(microseconds: 10)
    )
    try await auditor.record(
      .scan,
      of: [Self.first],
      by: agency,
      purpose: "",
      documentCode: "EA000000005VN-TO_KHAI-1",
      now: Timestamp(microseconds: 20)
    )
    let all = try await auditor.records(matching: AccessQuery())
    #expect(all.map(\.sequence) == [3, 2, 1])
    #expect(all.first?.read == .scan)
    #expect(all.first?.documentCode == "EA000000005VN-TO_KHAI-1")
    #expect(all.first?.at == Timestamp(microseconds: 20))
    #expect(all.last?.purpose == "morning round")

    let ofFirst = try await auditor.records(matching: AccessQuery(trackingNumber: Self.first))
    #expect(ofFirst.map(\.sequence) == [3, 1])
    let byClerk = try await auditor.records(matching: AccessQuery(actor: clerk))
    #expect(byClerk.map(\.trackingNumber) == [Self.second, Self.first])
    let page = try await auditor.records(matching: AccessQuery(before: 3, limit: 1))
    #expect(page.map(\.sequence) == [2])

    // The audit survives a restart.
    let reopened = try await backend.reopen(stores)
    #expect(try await reopened.accessAudit.records(matching: AccessQuery()).count == 3)
    await #expect(throws: TrackingError.self) {
      try await auditor.records(matching: AccessQuery(limit: 0))
    }
  }

  @Test("a purpose is at most 200 characters without control characters")
  func purposes() throws {
    #expect(try AccessAuditor.purpose("Trả kết quả tại quầy") == "Trả kết quả tại quầy")
    #expect(throws: InvalidValue.self) {
      try AccessAuditor.purpose(String(repeating: "a", count: 201))
    }
    #expect(throws: InvalidValue.self) { try AccessAuditor.purpose("a\nb") }
  }
}
