import Foundation
import GRPCCore
import GRPCProtobuf
import Proto
import SwiftProtobuf
import Testing
import Tracking

@testable import PostalGateway

/// The legal rules of the agency's clock over gRPC: the agency's appointment, the one timely
/// supplement request, registration on the map in force, and a recompute after the 2026 swap.
extension SlaEndToEndTests {
  /// The agency files the dossier at `filedAt`, with its appointment date if given.
  func acknowledge(
    _ number: String,
    on gateway: RunningGateway,
    filedAt: String,
    appointment: String? = nil
  ) async throws {
    let filed = TestClock.parse(filedAt)
    let day = filed.dateInVietnam
    let yymmdd = String(format: "%02d%02d%02d", day.year % 100, day.month, day.day)
    _ = try await self.handoffs.asAgency(gateway) { agency in
      try await agency.acknowledgeHandoff(
        .with {
          $0.requestID = UUID().uuidString
          $0.handoffID = "\(number)-H1"
          $0.accepted = .with {
            $0.dossierCode = "000.00.00.H55-\(yymmdd)-0001"
            $0.receivedAt = filed.proto
            if let appointment { $0.appointmentDate = appointment }
          }
        }
      )
    }
  }

  func explain(
    _ number: String,
    on gateway: RunningGateway
  ) async throws
    -> Postalgateway_V1_DeadlineExplanation
  {
    try await self.asOversight(gateway) {
      try await $0.explainDeadline(
        .with {
          $0.trackingNumber = number
          $0.hop = .agencyProcessing
        }
      )
    }
  }

  func march2026Report(_ gateway: RunningGateway) async throws -> Postalgateway_V1_SlaReportRow? {
    let report = try await self.asOversight(gateway) {
      try await $0.getSlaReport(
        .with {
          $0.fromDate = "2026-03-01"
          $0.toDate = "2026-03-31"
          $0.groupBy = .agency
        }
      )
    }
    return report.rows.first { $0.hop == .agencyProcessing }
  }

  @Test(
    "the agency's appointment reaches the citizen; explain compares it with the legal due date and the report counts it"
  )
  func appointmentLaterThanTheLaw() async throws {
    let clock = TestClock("2026-03-02T09:00:00+07:00")
    try await self.withSlaGateway(clock: clock) { gateway in
      let (number, _, code) = try await self.handoffs.digitizedDossierWithCode(on: gateway)
      // 2.000635: 1 working day, so the law gives Tue 3 March; the slip says Friday 6 March.
      clock.set("2026-03-02T10:00:00+07:00")
      try await self.acknowledge(
        number,
        on: gateway,
        filedAt: "2026-03-02T10:00:00+07:00",
        appointment: "2026-03-06"
      )
      let tracked = try await gateway.track(number, code: code)
      #expect(tracked.appointmentDate == "2026-03-06")
      #expect(tracked.agencyDeadline.dueDate == "2026-03-03")

      let explained = try await self.explain(number, on: gateway)
      #expect(explained.dueDate == "2026-03-03")
      #expect(explained.countedFrom == "2026-03-02")
      #expect(explained.appointmentDate == "2026-03-06")
      #expect(explained.appointmentLaterThanLaw)
      #expect(explained.rule.contains("QĐ 45/2016/QĐ-TTg art. 7.4"))
      #expect(explained.rule.contains("Bộ luật Dân sự 2015 art. 147"))
      #expect(explained.calendarVersions == ["vn-state-2026.2"])
      #expect(explained.steps.contains { $0.contains("LATER than the law allows (2026-03-03)") })

      // The result on the appointment date is late against the law.
      clock.set("2026-03-06T10:00:00+07:00")
      _ = try await self.handoffs.asAgency(gateway) { agency in
        try await agency.reportResultReady(
          .with {
            $0.requestID = UUID().uuidString
            $0.trackingNumber = number
            $0.documents = ["Bản sao trích lục hộ tịch"]
            $0.collectAt = "Bộ phận một cửa tỉnh"
          }
        )
      }
      let row = try #require(try await self.march2026Report(gateway))
      #expect(row.ended == 1)
      #expect(row.late == 1)
      #expect(row.appointmentsLaterThanLaw == 1)
      #expect(row.lateWithApology == 0)
    }
  }

  @Test(
    "one supplement request within three working days restarts the clock; the citizen sees the list; a second is recorded and flagged without a restart"
  )
  func supplementsOnceWithinTheWindow() async throws {
    let clock = TestClock("2026-03-02T09:00:00+07:00")
    try await self.withSlaGateway(clock: clock) { gateway in
      let (number, _, code) = try await self.handoffs.digitizedDossierWithCode(on: gateway)
      clock.set("2026-03-02T10:00:00+07:00")
      try await self.acknowledge(number, on: gateway, filedAt: "2026-03-02T10:00:00+07:00")
      func ask(_ document: String, _ reason: String) async throws {
        _ = try await self.handoffs.asAgency(gateway) { agency in
          try await agency.requestSupplement(
            .with {
              $0.requestID = UUID().uuidString
              $0.trackingNumber = number
              $0.items = [
                .with {
                  $0.document = document
                  $0.reason = reason
                }
              ]
            }
          )
        }
      }
      func deliver() async throws {
        _ = try await gateway.withPartnerClient(TestPKI.shared.staff) {
          try await $0.recordEvent(eventRequest(number, .supplementDelivered))
        }
      }
      // Day 1 after the filing: in time.
      clock.set("2026-03-03T09:00:00+07:00")
      try await ask("Bản sao giấy khai sinh", "bản sao chưa chứng thực")
      let waiting = try await gateway.track(number, code: code)
      #expect(waiting.supplementItems.map(\.document) == ["Bản sao giấy khai sinh"])
      #expect(waiting.supplementItems.map(\.reason) == ["bản sao chưa chứng thực"])
      #expect(!waiting.hasAgencyDeadline)

      // The completed dossier is filed again on Wednesday: counted from then.
      clock.set("2026-03-04T09:00:00+07:00")
      try await deliver()
      #expect(try await self.explain(number, on: gateway).dueDate == "2026-03-05")

      // A second request is recorded and flagged; the clock does not stop or restart.
      clock.set("2026-03-04T11:00:00+07:00")
      try await ask("Tờ khai", "thiếu chữ ký")
      clock.set("2026-03-05T09:00:00+07:00")
      try await deliver()
      let explained = try await self.explain(number, on: gateway)
      #expect(explained.countedFrom == "2026-03-04")
      #expect(explained.dueDate == "2026-03-05")
      #expect(explained.timeliness.lateSupplementRequests == 1)
      #expect(explained.steps.contains { $0.contains("a second request: the law allows one") })
      #expect(try await gateway.track(number, code: code).agencyDeadline.dueDate == "2026-03-05")
    }
  }

  @Test(
    "registration with a place not on the map in force is INVALID_ARGUMENT naming the field, and nothing is stored",
    arguments: [
      ("19", "05434", "applicant.address.commune_code", "not a commune"),
      ("19", "00004", "applicant.address.commune_code", "province 01"),
      ("06", "01843", "applicant.address.province_code", "19"),
      ("99", "05443", "applicant.address.province_code", "not a province"),
    ]
  )
  func placesOffTheMapAreRefused(
    province: String,
    commune: String,
    field: String,
    mentions: String
  ) async throws {
    try await withTestGateway { gateway in
      try await gateway.withPartnerClient(TestPKI.shared.staff) { counter in
        var request = samplePickup()
        request.applicant.address.provinceCode = province
        request.applicant.address.communeCode = commune
        let error = await rpcError { _ = try await counter.registerPickup(request) }
        #expect(error?.code == .invalidArgument)
        let violations = try error?.unpackGoogleRPCStatus()?.details.compactMap(\.badRequest)
          .flatMap(\.violations)
        #expect(violations?.map(\.field) == [field])
        #expect(
          violations?.first?.violationDescription.contains(mentions) == true,
          "\(violations ?? [])"
        )
        #expect(try await counter.listShipments(.with { _ in }).shipments.isEmpty)
      }
    }
  }

  @Test(
    "recompute after the 2026 National Day swap lists exactly the shipments whose due date moves"
  )
  func recomputeAfterTheSwap() async throws {
    // The 2026 calendar as first published, without the swap.
    let calendars = temporaryDirectory()
    let bundled = try GatewayDomain.bundledCalendars()
    for name in try FileManager.default.contentsOfDirectory(atPath: bundled) {
      try FileManager.default.copyItem(
        atPath: (bundled as NSString).appendingPathComponent(name),
        toPath: (calendars as NSString).appendingPathComponent(name)
      )
    }
    let path = (calendars as NSString).appendingPathComponent("vn-2026.json")
    let corrected = try Data(contentsOf: URL(fileURLWithPath: path))
    var json = try #require(try JSONSerialization.jsonObject(with: corrected) as? [String: Any])
    json["version"] = "vn-state-2026.1"
    json["daysOff"] = try #require(json["daysOff"] as? [[String: Any]])
      .filter { $0["date"] as? String != "2026-08-31" }
    json["workingDays"] = try #require(json["workingDays"] as? [[String: Any]])
      .filter { $0["date"] as? String != "2026-08-22" }
    try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: path))

    let clock = TestClock("2026-08-17T09:00:00+07:00")
    try await self.withSlaGateway(clock: clock, calendars: calendars) { gateway in
      // 1 working day after the filing; collected and filed the same day (J+1 to the agency).
      var numbers: [String: String] = [:]
      for (name, day) in [
        ("unaffected", "2026-08-17"), ("saturday", "2026-08-21"), ("monday", "2026-08-28"),
      ] {
        (numbers[name], _) = try await self.filedDossier(
          on: gateway,
          clock: clock,
          collectedAt: "\(day)T09:00:00+07:00",
          filedAt: "\(day)T10:00:00+07:00"
        )
      }
      func recompute() async throws -> Postalgateway_V1_RecomputeSlaResponse {
        try await self.handoffs.asOperator(gateway) {
          try await $0.recomputeSla(.with { $0.apply = false })
        }
      }
      #expect(try await recompute().changes.isEmpty)

      try corrected.write(to: URL(fileURLWithPath: path))
      try gateway.gateway.reloadCatalog()
      let changes = try await recompute().changes
      #expect(Set(changes.map(\.trackingNumber)) == [numbers["saturday"]!, numbers["monday"]!])
      let processing = Dictionary(
        uniqueKeysWithValues: changes.filter { $0.hop == .agencyProcessing }
          .map { ($0.trackingNumber, $0) }
      )
      // Filed Friday 21/8: the old calendar gave Monday 24/8, the swap makes Saturday 22/8 due.
      #expect(processing[numbers["saturday"]!]?.stored.dueDate == "2026-08-24")
      #expect(processing[numbers["saturday"]!]?.recomputed.dueDate == "2026-08-22")
      // Filed Friday 28/8: Monday 31/8 is off now, and 1–2/9 are holidays.
      #expect(processing[numbers["monday"]!]?.stored.dueDate == "2026-08-31")
      #expect(processing[numbers["monday"]!]?.recomputed.dueDate == "2026-09-03")
      #expect(processing[numbers["monday"]!]?.recomputed.calendarVersions == ["vn-state-2026.2"])
    }
  }
}
