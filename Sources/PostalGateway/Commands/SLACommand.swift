import ArgumentParser
import Foundation
import GRPCCore
import Proto
import SwiftProtobuf
import Tracking

/// `postal-gateway sla …`: deadlines in Vietnamese working time, without a shipment.
struct SLACommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "sla",
    abstract: "Deadlines in Vietnamese working time.",
    subcommands: [
      Due.self, Explain.self, Calendar.self, Alerts.self, Report.self, Recompute.self,
    ]
  )

  struct Due: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract:
        "Print a due date, its rule and the data versions used: a postal leg (J + n by route class), or, without --route-class, the agency's processing from the filing instant."
    )
    @Option(
      help:
        "When it starts (J, or the filing), ISO 8601 with offset, e.g. 2025-01-24T10:00:00+07:00."
    )
    var start: String
    @Option(help: "Working days (agency processing; for a postal leg it overrides the class).")
    var workingDays: Int?
    @Option(
      help:
        "A route class of the policy: WITHIN_COMMUNE, WITHIN_PROVINCE, BETWEEN_MAJOR_CITIES, INTER_PROVINCE."
    )
    var routeClass: String?
    @Option(
      help:
        "A postal leg's origin as PROVINCE/COMMUNE codes of the administrative map, e.g. 19/05443; with --to, the route class is derived by the policy's rule."
    )
    var from: String?
    @Option(help: "A postal leg's destination as PROVINCE/COMMUNE, e.g. 01/00004.")
    var to: String?
    @Flag(help: "An appointment slip is handed back (doubles a postal leg).")
    var appointmentSlip = false
    @Option(
      help:
        "Agency processing: a sector law's same-day cut-off HH:MM (e.g. 15:00 for civil status, Luật Hộ tịch art. 5.3). Default: none."
    )
    var sameDayCutoff: String?
    @Option(help: "Calendar folder. Default: the bundled calendars.")
    var calendars: String?
    @Option(help: "SLA policy file. Default: the bundled policy.")
    var policy: String?
    @Flag(help: "Print every step.") var explain = false

    /// The deadline the options describe.
    func compute() throws -> (Deadline, policyVersion: String?) {
      let formatter = ISO8601DateFormatter()
      guard let date = formatter.date(from: self.start) else {
        throw ValidationError(
          "--start must be ISO 8601 with an offset, e.g. 2025-01-24T10:00:00+07:00"
        )
      }
      let start = Timestamp(microseconds: Int64((date.timeIntervalSince1970 * 1_000_000).rounded()))
      let calendar = try CalendarFiles.load(
        directory: try self.calendars ?? GatewayDomain.bundledCalendars()
      )
      let map = try AdministrativeMapFile.load(directory: try GatewayDomain.bundledAdminUnits())
      var policy = try SlaPolicyFile.load(
        path: try self.policy ?? GatewayDomain.bundledSlaPolicy(),
        map: map
      ).policy
      var reasons: [String] = []
      var routeClass = self.routeClass
      if self.from != nil || self.to != nil {
        guard routeClass == nil else {
          throw ValidationError("give either --route-class or --from and --to")
        }
        guard let from = self.from, let to = self.to else {
          throw ValidationError("--from and --to go together")
        }
        let origin = try Self.place(from, option: "--from", map: map)
        let destination = try Self.place(to, option: "--to", map: map)
        let (route, why) = policy.routeClass(from: origin, to: destination, map: map)
        routeClass = route.rawValue
        reasons.append(why)
      }
      if let routeClass {
        let route = RouteClass(rawValue: routeClass.uppercased())
        guard policy.postal.workingDays[route] != nil else {
          throw ValidationError(
            "--route-class must be one of \(policy.postal.workingDays.keys.map(\.rawValue).sorted())"
          )
        }
        var slip = self.appointmentSlip
        if let n = self.workingDays {
          guard n >= 0 else { throw ValidationError("--working-days must not be negative") }
          // The given figure is the whole allowance.
          policy.postal.version += "+override(\(route)=\(n))"
          policy.postal.workingDays[route] = n
          slip = false
        }
        let deadline = DeadlineCalculator(calendar: calendar, policy: policy).postalLeg(
          j: start.dateInVietnam,
          route: route,
          appointmentSlip: slip,
          reasons: reasons
        )
        return (deadline, policy.version)
      }
      guard let n = self.workingDays, n >= 0 else {
        throw ValidationError("--working-days is required without --route-class")
      }
      let cutoff = try self.sameDayCutoff.map { text -> SameDayCutoff in
        let parts = text.split(separator: ":").compactMap { Int($0) }
        guard parts.count == 2, (0 ... 23).contains(parts[0]), (0 ... 59).contains(parts[1]) else {
          throw ValidationError("--same-day-cutoff must be HH:MM")
        }
        return SameDayCutoff(
          minutes: parts[0] * 60 + parts[1],
          source: "the procedure's sector law (given with --same-day-cutoff)"
        )
      }
      let deadline = DeadlineCalculator(calendar: calendar, policy: policy).agencyProcessing(
        filedAt: start,
        workingDays: n,
        cutoff: cutoff
      )
      return (deadline, nil)
    }

    /// A place on the map from `PROVINCE/COMMUNE`.
    static func place(_ text: String, option: String, map: AdministrativeMap) throws -> Place {
      let parts = text.split(separator: "/").map(String.init)
      guard parts.count == 2, let province = try? ProvinceCode(validating: parts[0]),
        let commune = try? CommuneCode(validating: parts[1])
      else { throw ValidationError("\(option) must be PROVINCE/COMMUNE codes, e.g. 19/05443") }
      do {
        try map.checkProvince(province)
        try map.checkCommune(commune, in: province)
      } catch let error as InvalidValue {
        throw ValidationError("\(option): \(error.reason)")
      }
      return Place(province: province, commune: commune)
    }

    func run() throws {
      let (deadline, policyVersion) = try self.compute()
      print("due: \(deadline.due) (end of day, Vietnam time)")
      print("rule: \(deadline.rule)")
      if let policyVersion { print("policy: \(policyVersion)") }
      print(
        "calendar: \(deadline.calendarVersions.joined(separator: ", "))"
          + (deadline.provisional ? "  PROVISIONAL (statutory rules; no published schedule)" : "")
      )
      if self.explain { for step in deadline.steps { print("  \(step)") } }
    }
  }

  struct Explain: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract:
        "Oversight: how a shipment's deadline was computed (inputs, calendar and policy versions, steps, verdict)."
    )
    @OptionGroup var client: ClientOptions
    @Argument(help: "Tracking number.") var trackingNumber: String
    @Option(
      help: "DOSSIER_LEG, AGENCY_PROCESSING, RESULT_LEG or RETURN_LEG. Default: the running hop."
    )
    var hop: String?

    func run() async throws {
      let hop = try self.hop.map(SLACommand.hop) ?? .unspecified
      let explanation = try await self.client.withPartnerClient(as: "oversight") { client in
        try await Postalgateway_V1_OversightService.Client(wrapping: client).explainDeadline(
          .with {
            $0.trackingNumber = self.trackingNumber
            $0.hop = hop
          }
        )
      }
      try self.client.emit(explanation) {
        let e = explanation
        return
          ([
            "\(e.trackingNumber)  \(e.hop)  due \(e.dueDate)"
              + (e.provisional ? "  PROVISIONAL" : ""),
            "  started by event \(e.startedByEventSequence) \(e.startedByEventType) at \(vietnamTime(timestamp(e.startedAt)))",
            e.catalogVersion.isEmpty
              ? "  J + \(e.workingDays) working day(s): route \(e.timeliness.routeClass), policy \(e.timeliness.policyVersion)"
              : "  \(e.procedureCode): \(e.workingDays) working day(s), catalog \(e.catalogVersion)",
            "  calendar \(e.calendarVersions.joined(separator: ", "))",
            "  " + SLACommand.status(e.timeliness),
            "  rule: \(e.rule)",
          ] + e.steps.map { "  \($0)" }).joined(separator: "\n")
      }
    }
  }

  struct Calendar: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "List a year's days off and working Saturdays with their sources."
    )
    @Argument(help: "The year.") var year: Int
    @Option(help: "Calendar folder. Default: the bundled calendars.") var calendars: String?

    func run() throws {
      let calendar = try CalendarFiles.load(
        directory: try self.calendars ?? GatewayDomain.bundledCalendars()
      )
      let year = calendar.year(self.year)
      print("\(year.version)\(year.provisional ? "  PROVISIONAL" : "")  sha256 \(year.contentHash)")
      for entry in year.daysOff {
        print("  off      \(entry.date)  \(entry.name)  [\(entry.source)]")
      }
      for entry in year.workingDays {
        print("  working  \(entry.date)  \(entry.name)  [\(entry.source)]")
      }
    }
  }

  struct Alerts: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Oversight: stream at-risk and breach alerts, one line each with its cursor."
    )
    @OptionGroup var client: ClientOptions
    @Option(help: "Resume after this cursor.") var after: Int64 = 0
    @Option(help: "Stop after this many alerts (default: run until interrupted).") var count: Int?

    func run() async throws {
      try await self.client.withPartnerClient(as: "oversight") { client in
        try await Postalgateway_V1_OversightService.Client(wrapping: client).watchAlerts(
          .with { $0.afterCursor = self.after }
        ) { response in
          var seen = 0
          for try await alert in response.messages {
            try self.client.emit(alert) {
              "cursor \(alert.cursor)  \(alert.kind == .atRisk ? "AT_RISK" : "BREACH")  \(alert.trackingNumber)  "
                + "\(SLACommand.hopName(alert.hop.hop))  due \(alert.hop.dueDate)  agency \(alert.agencyCode)"
            }
            seen += 1
            if let count = self.count, seen >= count { break }
          }
        }
      }
    }
  }

  struct Report: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract:
        "Oversight: per group and hop, the hops that ended in a period (on time, late, median and p90 working days) and open breaches."
    )
    @OptionGroup var client: ClientOptions
    @Option(help: "First day, YYYY-MM-DD (Vietnam).") var from: String
    @Option(help: "Last day, YYYY-MM-DD (Vietnam), inclusive.") var to: String
    @Option(help: "AGENCY, POST_OFFICE, ROUTE_CLASS or PROCEDURE.") var groupBy = "AGENCY"

    func run() async throws {
      guard
        let grouping = SlaReportGrouping(rawValue: self.groupBy.uppercased())?.proto
      else {
        throw ValidationError("--group-by must be AGENCY, POST_OFFICE, ROUTE_CLASS or PROCEDURE")
      }
      let report = try await self.client.withPartnerClient(as: "oversight") { client in
        try await Postalgateway_V1_OversightService.Client(wrapping: client).getSlaReport(
          .with {
            $0.fromDate = self.from
            $0.toDate = self.to
            $0.groupBy = grouping
          }
        )
      }
      try self.client.emit(report) {
        (["\(report.fromDate) – \(report.toDate) by \(self.groupBy.uppercased())"]
          + report.rows.map { r in
            "  \(r.key)  \(SLACommand.hopName(r.hop))  ended \(r.ended)  on time \(r.onTime) (\(String(format: "%.1f", r.onTimePercent))%)  late \(r.late)  open breaches \(r.openBreaches)  median \(String(format: "%.2f", r.medianWorkingDays)) p90 \(String(format: "%.2f", r.p90WorkingDays)) working days"
          }).joined(separator: "\n")
      }
    }
  }

  struct Recompute: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract:
        "Operator: recompute every stored hop with the calendars, policy and catalog in force and list the differences (after a calendar correction)."
    )
    @OptionGroup var client: ClientOptions
    @Flag(help: "Store the recomputed hops.") var apply = false

    func run() async throws {
      let result = try await self.client.withPartnerClient(as: "operator") { client in
        try await Postalgateway_V1_OperatorService.Client(wrapping: client).recomputeSla(
          .with { $0.apply = self.apply }
        )
      }
      try self.client.emit(result) {
        let verdicts = Set(result.changes.filter(\.verdictChanged).map(\.trackingNumber))
        return
          ([
            "checked \(result.shipmentsChecked) shipment(s), \(result.hopsChecked) hop(s) with calendar \(result.calendarVersions.joined(separator: ", ")), policy \(result.policyVersion), catalog \(result.catalogVersion)",
            "\(result.changes.count) hop(s) differ; verdict changes in \(verdicts.count) shipment(s)"
              + (result.truncated ? " (list truncated)" : "")
              + (result.applied ? "; applied" : "; not applied (use --apply)"),
          ]
          + result.changes.map { c in
            "  \(c.trackingNumber)  \(SLACommand.hopName(c.hop))  "
              + "\(SLACommand.status(c.stored)) → \(SLACommand.status(c.recomputed))"
              + (c.verdictChanged ? "  VERDICT CHANGES" : "")
              + "  [\(c.stored.calendarVersions.joined(separator: ",")) → \(c.recomputed.calendarVersions.joined(separator: ","))]"
          }).joined(separator: "\n")
      }
    }
  }

  /// A hop name from the command line.
  static func hop(_ text: String) throws -> Postalgateway_V1_SlaHop {
    guard let hop = Tracking.SlaHop(rawValue: text.uppercased()) else {
      throw ValidationError(
        "--hop must be one of \(Tracking.SlaHop.allCases.map(\.rawValue).joined(separator: ", "))"
      )
    }
    return hop.proto
  }

  static func hopName(_ hop: Postalgateway_V1_SlaHop) -> String {
    Tracking.SlaHop.allCases.first { $0.proto == hop }?.rawValue ?? "UNSPECIFIED"
  }

  /// `due 2025-02-04, ON_TIME` and the like.
  static func status(_ hop: Postalgateway_V1_HopTimeliness) -> String {
    guard hop.hop != .unspecified else { return "(none)" }
    let state: String =
      if hop.running { "running" } else if hop.verdict != .unspecified {
        HopVerdict.allCases.first { $0.proto == hop.verdict }?.rawValue ?? "?"
      } else { "stopped by \(wireName(hop.stoppedBy))" }
    return "due \(hop.dueDate), \(state)"
  }
}
