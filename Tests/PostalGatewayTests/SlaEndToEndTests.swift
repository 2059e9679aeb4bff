import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Proto
import SwiftProtobuf
import Synchronization
import Testing
import Tracking

@testable import PostalGateway

/// Service levels on the real gateway: hops written with the events in SQLite, the monitor
/// raising alerts as a test clock moves, oversight watching, reporting and explaining over
/// mutual TLS, and operators recomputing after a calendar correction.
@Suite("Service levels end to end")
struct SlaEndToEndTests {
  typealias OversightClient = Postalgateway_V1_OversightService.Client<HTTP2ClientTransport.Posix>

  let handoffs = HandoffEndToEndTests()
  let pki = HandoffPKI.shared

  /// A pull-mode gateway on a test clock: the monitor sleeps on it until an alert is due.
  func withSlaGateway<T: Sendable>(
    clock: TestClock,
    calendars: String? = nil,
    _ body: (RunningGateway) async throws -> T
  ) async throws -> T {
    let directory = temporaryDirectory()
    let routes = try self.pki.routesFile(mode: .pull, port: 0, in: directory)
    return try await withTestGateway(dataDirectory: directory, clock: clock) {
      $0.handoffs.routesFile = routes
      if let calendars { $0.calendarDirectory = calendars }
    } _: { gateway in
      try await body(gateway)
    }
  }

  func asOversight<T: Sendable>(
    _ gateway: RunningGateway,
    _ body: (OversightClient) async throws -> T
  ) async throws -> T {
    try await gateway.withClient(port: gateway.partnerPort, credential: self.pki.oversight) {
      try await body(OversightClient(wrapping: $0))
    }
  }

  /// Collects and digitizes a dossier at the clock's time; the agency files it at `filedAt`.
  func filedDossier(
    on gateway: RunningGateway,
    clock: TestClock,
    collectedAt: String,
    filedAt: String
  ) async throws -> (number: String, code: String) {
    clock.set(collectedAt)
    let (number, _, code) = try await self.handoffs.digitizedDossierWithCode(on: gateway)
    clock.set(filedAt)
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
          }
        }
      )
    }
    return (number, code)
  }

  /// Reads the alert stream from a cursor until `count` alerts arrived.
  func alerts(
    _ gateway: RunningGateway,
    after cursor: Int64,
    count: Int
  ) async throws -> [Postalgateway_V1_SlaAlert] {
    try await self.asOversight(gateway) { oversight in
      try await oversight.watchAlerts(.with { $0.afterCursor = cursor }) {
        try await firstMessages(count, of: $0)
      }
    }
  }

  @Test(
    "agency processing that runs past its due date gives one at-risk and one breach alert, a reconnecting watcher resumes without loss or duplicates, the report counts it and ExplainDeadline shows the calendar version"
  )
  func overdueProcessingRaisesAlertsOnce() async throws {
    // Mon 2 March 2026: a working week with no holiday.
    let clock = TestClock("2026-03-02T09:00:00+07:00")
    try await self.withSlaGateway(clock: clock) { gateway in
      let (number, code) = try await self.filedDossier(
        on: gateway,
        clock: clock,
        collectedAt: "2026-03-02T09:00:00+07:00",
        filedAt: "2026-03-02T10:00:00+07:00"
      )
      // 2.000635: 1 working day, counted after 2 March: due by the end of Tue 3 March; at risk
      // after 80% of 450 working minutes = 360 minutes of 3 March: 15:30.
      let staffView = try await self.handoffs.shipment(number, on: gateway)
      let processing = try #require(staffView.hops.first { $0.hop == .agencyProcessing })
      #expect(processing.dueDate == "2026-03-03")
      #expect(processing.running)
      #expect(timestamp(processing.atRiskAt) == TestClock.parse("2026-03-03T15:30:00+07:00"))
      let dossierLeg = try #require(staffView.hops.first { $0.hop == .dossierLeg })
      #expect(dossierLeg.routeClass == "WITHIN_COMMUNE")
      #expect(dossierLeg.dueDate == "2026-03-03")
      #expect(dossierLeg.verdict == .early)

      // Before the at-risk time nothing is raised: the monitor sleeps until exactly then.
      clock.set("2026-03-03T15:00:00+07:00")
      await clock.waitForSleeper(until: timestamp(processing.atRiskAt))
      #expect(try await gateway.stores.sla.alerts(after: 0, limit: 10).isEmpty)

      // At risk: the watcher gets exactly one alert, then disconnects.
      clock.set("2026-03-03T15:31:00+07:00")
      let first = try await self.alerts(gateway, after: 0, count: 1)
      #expect(first.map(\.kind) == [.atRisk])
      #expect(first[0].trackingNumber == number)
      #expect(first[0].hop.hop == .agencyProcessing)

      // Breach while nobody watches; the watcher resumes after its cursor.
      clock.set("2026-03-04T08:00:00+07:00")
      let resumed = try await self.alerts(gateway, after: first[0].cursor, count: 1)
      #expect(resumed.map(\.kind) == [.breach])
      #expect(resumed[0].cursor > first[0].cursor)

      // The result comes late: the hop ends LATE, and no second breach is raised.
      clock.set("2026-03-04T09:00:00+07:00")
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
      // Nothing runs any more, so nothing else can be raised.
      #expect(try await gateway.stores.sla.nextAlertTime() == nil)
      let all = try await gateway.stores.sla.alerts(after: 0, limit: 10)
      #expect(all.map(\.kind) == [.atRisk, .breach])

      // The report counts it.
      let report = try await self.asOversight(gateway) {
        try await $0.getSlaReport(
          .with {
            $0.fromDate = "2026-03-01"
            $0.toDate = "2026-03-31"
            $0.groupBy = .agency
          }
        )
      }
      let row = try #require(report.rows.first { $0.hop == .agencyProcessing })
      #expect(row.key == "000.00.00.H55")
      #expect(row.ended == 1)
      #expect(row.late == 1)
      #expect(row.onTime == 0)
      #expect(row.onTimePercent == 0)
      let legRow = try #require(report.rows.first { $0.hop == .dossierLeg })
      #expect(legRow.onTime == 1)
      #expect(legRow.onTimePercent == 100)
      let byRoute = try await self.asOversight(gateway) {
        try await $0.getSlaReport(
          .with {
            $0.fromDate = "2026-03-01"
            $0.toDate = "2026-03-31"
            $0.groupBy = .routeClass
          }
        )
      }
      #expect(byRoute.rows.contains { $0.key == "WITHIN_COMMUNE" && $0.hop == .dossierLeg })

      // ExplainDeadline shows the calendar and the verdict.
      let explained = try await self.asOversight(gateway) {
        try await $0.explainDeadline(
          .with {
            $0.trackingNumber = number
            $0.hop = .agencyProcessing
          }
        )
      }
      let calendar2026 = gateway.gateway.calendar.current.year(2026).version
      #expect(explained.calendarVersions == [calendar2026])
      #expect(explained.timeliness.verdict == .late)
      #expect(explained.steps.contains { $0.contains("LATE") })
      let leg = try await self.asOversight(gateway) {
        try await $0.explainDeadline(
          .with {
            $0.trackingNumber = number
            $0.hop = .dossierLeg
          }
        )
      }
      #expect(leg.timeliness.policyVersion == gateway.gateway.slaPolicy.current.version)
      #expect(leg.steps.first?.contains("same commune") == true)

      // The citizen sees the legs' due dates.
      let tracked = try await gateway.track(number, code: code)
      #expect(tracked.hops.map(\.dueDate) == ["2026-03-03", "2026-03-03"])
      #expect(tracked.hops.last?.verdict == .late)
    }
  }

  @Test(
    "the agency extends its processing once: the citizen and the alerts follow the new appointment, the legal due date stays, no breach at the old date, and a second extension is refused"
  )
  func oneExtensionMovesTheDueDate() async throws {
    let clock = TestClock("2026-03-02T09:00:00+07:00")
    try await self.withSlaGateway(clock: clock) { gateway in
      let (number, code) = try await self.filedDossier(
        on: gateway,
        clock: clock,
        collectedAt: "2026-03-02T09:00:00+07:00",
        filedAt: "2026-03-02T10:00:00+07:00"
      )
      clock.set("2026-03-02T11:00:00+07:00")
      func extend(_ date: String) async throws -> Postalgateway_V1_AgencyShipment {
        try await self.handoffs.asAgency(gateway) {
          try await $0.extendProcessing(
            .with {
              $0.requestID = UUID().uuidString
              $0.trackingNumber = number
              $0.newDueDate = date
              $0.reason = "Cần xác minh thêm"
              $0.apology = "Xin lỗi ông/bà vì sự chậm trễ"
            }
          )
        }
      }
      let malformed = await rpcError { _ = try await extend("6/3/2026") }
      #expect(malformed?.code == .invalidArgument)
      #expect(malformed?.message.contains("new_due_date") == true)
      let notLater = await rpcError { _ = try await extend("2026-03-03") }
      #expect(notLater?.code == .invalidArgument)
      #expect(notLater?.message.contains("new_due_date") == true)

      let extended = try await extend("2026-03-06")
      #expect(extended.state == .handedToAgency)
      let tracked = try await gateway.track(number, code: code)
      #expect(tracked.agencyDeadline.dueDate == "2026-03-03")
      #expect(tracked.agencyDeadline.extendedTo == "2026-03-06")
      #expect(tracked.hops.last?.dueDate == "2026-03-03")
      #expect(tracked.hops.last?.extendedTo == "2026-03-06")
      #expect(tracked.hops.last?.workingDays == 1)

      let second = await rpcError { _ = try await extend("2026-03-09") }
      #expect(second?.code == .failedPrecondition)

      // The old due date passes without a breach: the monitor sleeps until the new at-risk time.
      clock.set("2026-03-04T08:00:00+07:00")
      let processing = try #require(tracked.hops.last)
      await clock.waitForSleeper(until: timestamp(processing.atRiskAt))
      #expect(try await gateway.stores.sla.alerts(after: 0, limit: 10).isEmpty)
      let explained = try await self.asOversight(gateway) {
        try await $0.explainDeadline(.with { $0.trackingNumber = number })
      }
      #expect(explained.dueDate == "2026-03-03")
      #expect(explained.extendedTo == "2026-03-06")
      #expect(explained.rule.contains("art. 19.9"))
      #expect(explained.steps.contains { $0.contains("extended on 2026-03-02") })
      let staffView = try await self.handoffs.shipment(number, on: gateway)
      let event = try #require(staffView.events.first { $0.type == .processingExtended })
      #expect(event.processingExtension.previousDueDate == "2026-03-03")
      #expect(event.processingExtension.apology == "Xin lỗi ông/bà vì sự chậm trễ")
    }
  }

  @Test("bad report and explain requests are refused, naming the field")
  func badRequestsAreRefused() async throws {
    let clock = TestClock("2026-03-02T09:00:00+07:00")
    try await self.withSlaGateway(clock: clock) { gateway in
      let badPeriod = await rpcError {
        _ = try await self.asOversight(gateway) {
          try await $0.getSlaReport(
            .with {
              $0.fromDate = "2026-03-31"
              $0.toDate = "2026-03-01"
              $0.groupBy = .agency
            }
          )
        }
      }
      #expect(badPeriod?.code == .invalidArgument)
      #expect(badPeriod?.message.contains("to_date") == true)
      let noGrouping = await rpcError {
        _ = try await self.asOversight(gateway) {
          try await $0.getSlaReport(
            .with {
              $0.fromDate = "2026-03-01"
              $0.toDate = "2026-03-31"
            }
          )
        }
      }
      #expect(noGrouping?.message.contains("group_by") == true)
      let (number, _) = try await self.handoffs.digitizedDossier(on: gateway)
      let notStarted = await rpcError {
        _ = try await self.asOversight(gateway) {
          try await $0.explainDeadline(
            .with {
              $0.trackingNumber = number
              $0.hop = .resultLeg
            }
          )
        }
      }
      #expect(notStarted?.code == .failedPrecondition)
      let staff = await rpcError {
        try await gateway.withClient(port: gateway.partnerPort, credential: TestPKI.shared.staff) {
          try await OversightClient(wrapping: $0).watchAlerts(.with { _ in }) {
            for try await _ in $0.messages {}
          }
        }
      }
      #expect(staff?.code == .permissionDenied)
    }
  }

  @Test("recompute after a calendar correction lists exactly the shipments whose verdict changes")
  func recomputeAfterCalendarCorrection() async throws {
    let calendars = temporaryDirectory()
    let bundled = try GatewayDomain.bundledCalendars()
    for name in try FileManager.default.contentsOfDirectory(atPath: bundled) {
      try FileManager.default.copyItem(
        atPath: (bundled as NSString).appendingPathComponent(name),
        toPath: (calendars as NSString).appendingPathComponent(name)
      )
    }
    let clock = TestClock("2026-03-02T09:00:00+07:00")
    try await self.withSlaGateway(clock: clock, calendars: calendars) { gateway in
      // Unaffected: collected Mon 2 March, filed Tue 3 March (J+1): ON_TIME either way.
      let (kept, _) = try await self.filedDossier(
        on: gateway,
        clock: clock,
        collectedAt: "2026-03-02T09:00:00+07:00",
        filedAt: "2026-03-03T10:00:00+07:00"
      )
      // Affected: collected Mon 9 March, filed Wed 11 March: LATE against J+1 = 10 March.
      let (changed, _) = try await self.filedDossier(
        on: gateway,
        clock: clock,
        collectedAt: "2026-03-09T09:00:00+07:00",
        filedAt: "2026-03-11T10:00:00+07:00"
      )
      func recompute(apply: Bool) async throws -> Postalgateway_V1_RecomputeSlaResponse {
        try await self.handoffs.asOperator(gateway) {
          try await $0.recomputeSla(.with { $0.apply = apply })
        }
      }
      let before = try await recompute(apply: false)
      #expect(before.shipmentsChecked == 2)
      #expect(before.changes.isEmpty)

      // The calendar is corrected: Tue 10 March 2026 becomes a day off.
      let path = (calendars as NSString).appendingPathComponent("vn-2026.json")
      var json = try #require(
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path)))
          as? [String: Any]
      )
      json["version"] = "vn-2026.test-correction"
      var daysOff = try #require(json["daysOff"] as? [[String: Any]])
      daysOff.append(["date": "2026-03-10", "name": "Test correction", "source": "test"])
      json["daysOff"] = daysOff
      try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: path))
      try gateway.gateway.reloadCatalog()

      let after = try await recompute(apply: false)
      #expect(after.changes.map(\.trackingNumber) == [changed])
      let change = try #require(after.changes.first)
      #expect(change.hop == .dossierLeg)
      #expect(change.verdictChanged)
      #expect(change.stored.verdict == .late)
      #expect(change.recomputed.verdict == .onTime)
      #expect(change.stored.dueDate == "2026-03-10")
      #expect(change.recomputed.dueDate == "2026-03-11")
      #expect(change.recomputed.calendarVersions == ["vn-2026.test-correction"])
      #expect(!after.changes.contains { $0.trackingNumber == kept })
      #expect(!after.applied)

      let applied = try await recompute(apply: true)
      #expect(applied.applied)
      #expect(applied.changes.count == 1)
      #expect(try await recompute(apply: false).changes.isEmpty)
    }
  }
}
