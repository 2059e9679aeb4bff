import Testing
import Tracking

@Suite("Agency dossier codes and handoff values")
struct HandoffDomainTests {
  @Test("the published example dossier code is valid and splits into agency and date")
  func publishedExample() throws {
    let code = try DossierCode(validating: "000.00.00.H55-250312-0042")
    #expect(code.agency.rawValue == "000.00.00.H55")
    #expect(code.receivedOn == CivilDate(year: 2025, month: 3, day: 12))
  }

  @Test(
    "malformed dossier codes are refused",
    arguments: [
      "", "000.00.00.H55", "000.00.00.H55-250312", "000.00.00.H55-250312-042",
      "000.00.00.H55-250312-0000", "000.00.00.H55-251312-0001", "000.00.00.H55-250230-0001",
      "00.00.00.H55-250312-0001", "000.00.00.H55-25031a-0001", "000.00.00.H55-250312-0001-1",
    ]
  )
  func malformed(code: String) {
    #expect(throws: InvalidValue.self) { try DossierCode(validating: code) }
  }

  @Test("ISO calendar dates parse, and impossible ones are refused")
  func isoDates() throws {
    #expect(try CivilDate(iso: "2026-02-17") == CivilDate(year: 2026, month: 2, day: 17))
    #expect(try CivilDate(iso: "2024-02-29") == CivilDate(year: 2024, month: 2, day: 29))
    for bad in ["2025-02-29", "2026-13-01", "2026-1-01", "20260101", "2026-01-0x", ""] {
      #expect(throws: InvalidValue.self, "\(bad)") { try CivilDate(iso: bad) }
    }
  }

  @Test("a handoff is queued only for an agency with a route, with a stable id")
  func routesDecideTheTicket() throws {
    let agency = try AgencyCode(validating: "000.00.00.H55")
    let other = try AgencyCode(validating: "000.00.15.H55")
    let number = try TrackingNumber(validating: "EA000000005VN")
    let routes = HandoffRoutes([agency: .pull])
    #expect(HandoffTicket.firstID(for: number) == "EA000000005VN-H1")
    #expect(routes.modes[agency] == .pull)
    #expect(routes.modes[other] == nil)
  }

  @Test("two decisions agree when their outcome is the same, whatever the channel")
  func decisionsAgreeAcrossChannels() throws {
    let acceptance = AgencyAcceptance(
      dossierCode: try DossierCode(validating: "000.00.00.H55-261129-0001"),
      receivedAt: Timestamp(microseconds: 1_000_000),
      appointmentDate: nil
    )
    let push = AgencyDecision(handoffID: "H", channel: .push, outcome: .accepted(acceptance))
    let pull = AgencyDecision(handoffID: "H", channel: .pull, outcome: .accepted(acceptance))
    let rejected = AgencyDecision(handoffID: "H", channel: .pull, outcome: .rejected(reason: "x"))
    #expect(push.agrees(with: pull))
    #expect(!push.agrees(with: rejected))
  }
}
