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
    subcommands: [Due.self, Explain.self, Calendar.self]
  )

  struct Due: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract:
        "Print a due date and the calendar version used: a postal leg (J + n by route class) or, without --route-class, agency processing with the 15:00 cut-off."
    )
    @Option(help: "When it starts, ISO 8601 with offset, e.g. 2025-01-24T10:00:00+07:00.")
    var start: String
    @Option(help: "Working days (agency processing; for a postal leg it overrides the class).")
    var workingDays: Int?
    @Option(help: "WITHIN_COMMUNE, WITHIN_PROVINCE, BETWEEN_MAJOR_CITIES or INTER_PROVINCE.")
    var routeClass: String?
    @Flag(help: "An appointment slip is handed back (doubles a postal leg).")
    var appointmentSlip = false
    @Option(help: "Calendar folder. Default: the bundled calendars.")
    var calendars: String?
    @Flag(help: "Print every step.") var explain = false

    func run() throws {
      let formatter = ISO8601DateFormatter()
      guard let date = formatter.date(from: self.start) else {
        throw ValidationError(
          "--start must be ISO 8601 with an offset, e.g. 2025-01-24T10:00:00+07:00"
        )
      }
      let start = Timestamp(microseconds: Int64((date.timeIntervalSince1970 * 1_000_000).rounded()))
      let calendar = try CalendarFiles.load(
        directory: try self.calendars ?? Gateway.bundledCalendars()
      )
      let calculator = DeadlineCalculator(calendar: calendar)
      let deadline: Deadline
      if let routeClass {
        guard let route = RouteClass(rawValue: routeClass.uppercased()) else {
          throw ValidationError(
            "--route-class must be one of \(RouteClass.allCases.map(\.rawValue))"
          )
        }
        var computed = calculator.postalLeg(
          j: start.dateInVietnam,
          route: route,
          appointmentSlip: self.appointmentSlip
        )
        if let n = self.workingDays {
          var policy = PostalLegPolicy.circular17
          policy.version += "+override"
          policy.workingDays[route] = self.appointmentSlip ? n / 2 : n
          computed = DeadlineCalculator(calendar: calendar, postal: policy).postalLeg(
            j: start.dateInVietnam,
            route: route,
            appointmentSlip: self.appointmentSlip
          )
        }
        deadline = computed
      } else {
        guard let n = self.workingDays, n >= 0 else {
          throw ValidationError("--working-days is required without --route-class")
        }
        deadline = calculator.agencyProcessing(filedAt: start, workingDays: n)
      }
      print("due: \(deadline.due) (end of day, Vietnam time)")
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
        "Oversight: how a shipment's running agency deadline was computed (inputs, calendar version, steps)."
    )
    @OptionGroup var client: ClientOptions
    @Argument(help: "Tracking number.") var trackingNumber: String

    func run() async throws {
      let explanation = try await self.client.withPartnerClient(as: "oversight") { client in
        try await Postalgateway_V1_OversightService.Client(wrapping: client).explainDeadline(
          .with { $0.trackingNumber = self.trackingNumber }
        )
      }
      try self.client.emit(explanation) {
        let e = explanation
        return
          ([
            "\(e.trackingNumber)  \(e.hop)  due \(e.dueDate)"
              + (e.provisional ? "  PROVISIONAL" : ""),
            "  started by event \(e.startedByEventSequence) \(e.startedByEventType) at \(vietnamTime(timestamp(e.startedAt)))",
            "  \(e.procedureCode): \(e.workingDays) working day(s), catalog \(e.catalogVersion)",
            "  calendar \(e.calendarVersions.joined(separator: ", "))",
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
        directory: try self.calendars ?? Gateway.bundledCalendars()
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
}
