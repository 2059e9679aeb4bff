import ArgumentParser
import Foundation
import GRPCCore
import Proto
import SwiftProtobuf
import Tracking

/// `postal-gateway indicators`
struct IndicatorsCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "indicators",
    abstract:
      "Oversight: digitization, electronic transfer and satisfaction for the shipments registered in a period, per agency or post office."
  )
  @OptionGroup var client: ClientOptions
  @Option(help: "First day, YYYY-MM-DD (Vietnam).") var from: String
  @Option(help: "Last day, YYYY-MM-DD (Vietnam), inclusive.") var to: String
  @Option(help: "AGENCY or POST_OFFICE.") var groupBy = "AGENCY"
  @Option(help: "Also write the rows to this CSV file (UTF-8 with BOM).") var csv: String?

  func run() async throws {
    let grouping: Postalgateway_V1_IndicatorGrouping
    switch self.groupBy.uppercased() {
    case "AGENCY": grouping = .agency
    case "POST_OFFICE": grouping = .postOffice
    default: throw ValidationError("--group-by must be AGENCY or POST_OFFICE")
    }
    let report = try await self.client.withPartnerClient(as: "oversight") { client in
      try await Postalgateway_V1_OversightService.Client(wrapping: client).getIndicators(
        .with {
          $0.fromDate = self.from
          $0.toDate = self.to
          $0.groupBy = grouping
        }
      )
    }
    if let csv = self.csv {
      try Self.table(report).write(to: csv)
    }
    try self.client.emit(report) {
      func pct(_ value: Double) -> String { String(format: "%.1f%%", value) }
      return
        (["\(report.fromDate) – \(report.toDate) by \(self.groupBy.uppercased())"]
        + report.rows.map { r in
          "  \(r.key)  received \(r.received)  digitized \(r.digitized)/\(r.dossiers) (\(pct(r.digitizedPercent)))  electronic \(r.electronicTransfers)/\(r.electronicTransfers + r.paperOnlyTransfers) (\(pct(r.electronicPercent)))  ratings \(r.ratings), satisfied \(pct(r.satisfactionPercent)), mean \(String(format: "%.2f", r.meanOverall))  complaints \(r.complaints)  reused \(r.reusedPapers)/\(r.papers) papers (\(pct(r.reusedPercent)))"
        }).joined(separator: "\n")
    }
  }

  /// The report as a spreadsheet.
  static func table(_ report: Postalgateway_V1_Indicators) -> CSVTable {
    CSVTable(
      header: [
        "Nhóm (key)", "Tiếp nhận (received)", "Hồ sơ (dossiers)", "Số hóa (digitized)",
        "Số hóa %", "Chuyển điện tử (electronic)", "Chỉ giấy (paper only)", "Điện tử %",
        "Đánh giá (ratings)", "Hài lòng (satisfied)", "Hài lòng %", "Điểm TB (mean)",
        "Khiếu nại (complaints)", "Giấy tờ (papers)", "Tái sử dụng (reused)", "Tái sử dụng %",
      ],
      rows: report.rows.map { r in
        [
          r.key, "\(r.received)", "\(r.dossiers)", "\(r.digitized)",
          CSVTable.number(r.digitizedPercent), "\(r.electronicTransfers)",
          "\(r.paperOnlyTransfers)", CSVTable.number(r.electronicPercent), "\(r.ratings)",
          "\(r.satisfied)", CSVTable.number(r.satisfactionPercent),
          CSVTable.number(r.meanOverall), "\(r.complaints)", "\(r.papers)",
          "\(r.reusedPapers)", CSVTable.number(r.reusedPercent),
        ]
      }
    )
  }
}

/// `postal-gateway productivity`
struct ProductivityCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "productivity",
    abstract:
      "Oversight: dossiers taken in and results delivered per staff member in a period, the intake annualised against the plan's target."
  )
  @OptionGroup var client: ClientOptions
  @Option(help: "First day, YYYY-MM-DD (Vietnam).") var from: String
  @Option(help: "Last day, YYYY-MM-DD (Vietnam), inclusive.") var to: String
  @Option(help: "Also write the rows to this CSV file (UTF-8 with BOM).") var csv: String?

  func run() async throws {
    let report = try await self.client.withPartnerClient(as: "oversight") { client in
      try await Postalgateway_V1_OversightService.Client(wrapping: client).getStaffProductivity(
        .with {
          $0.fromDate = self.from
          $0.toDate = self.to
        }
      )
    }
    if let csv = self.csv {
      try CSVTable(
        header: [
          "Nhân viên (actor)", "Bưu cục (post office)", "Khu vực (area)", "Tiếp nhận (received)",
          "Trả kết quả (delivered)", "Quy năm (per year)", "Chỉ tiêu (target)", "Đạt (meets)",
        ],
        rows: report.rows.map { r in
          [
            r.actor, r.postOfficeCode, r.areaClass, "\(r.dossiersReceived)",
            "\(r.resultsDelivered)", CSVTable.number(r.annualisedDossiers, digits: 0),
            "\(r.yearlyTarget)", r.meetsTarget ? "có" : "không",
          ]
        }
      ).write(to: csv)
    }
    try self.client.emit(report) {
      (["\(report.fromDate) – \(report.toDate)  (targets: \(report.legalSource))"]
        + report.rows.map { r in
          "  \(r.actor)  office \(r.postOfficeCode) \(r.areaClass)  received \(r.dossiersReceived)  delivered \(r.resultsDelivered)  \(String(format: "%.0f", r.annualisedDossiers))/year of \(r.yearlyTarget)"
            + (r.meetsTarget ? "" : "  BELOW TARGET")
        }).joined(separator: "\n")
    }
  }
}

/// `postal-gateway waits`
struct WaitsCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "waits",
    abstract:
      "Oversight: counter waits of the queue tickets issued in a period, per post office or hour of the day, against the plan's 15 minutes."
  )
  @OptionGroup var client: ClientOptions
  @Option(help: "First day, YYYY-MM-DD (Vietnam).") var from: String
  @Option(help: "Last day, YYYY-MM-DD (Vietnam), inclusive.") var to: String
  @Option(help: "POST_OFFICE or HOUR_OF_DAY.") var groupBy = "POST_OFFICE"
  @Option(help: "Also write the rows to this CSV file (UTF-8 with BOM).") var csv: String?

  func run() async throws {
    let grouping: Postalgateway_V1_CounterWaitGrouping
    switch self.groupBy.uppercased() {
    case "POST_OFFICE": grouping = .postOffice
    case "HOUR_OF_DAY": grouping = .hourOfDay
    default: throw ValidationError("--group-by must be POST_OFFICE or HOUR_OF_DAY")
    }
    let report = try await self.client.withPartnerClient(as: "oversight") { client in
      try await Postalgateway_V1_OversightService.Client(wrapping: client).getCounterWaits(
        .with {
          $0.fromDate = self.from
          $0.toDate = self.to
          $0.groupBy = grouping
        }
      )
    }
    if let csv = self.csv {
      try CSVTable(
        header: [
          "Nhóm (key)", "Số phiếu (tickets)", "Chờ TB phút (mean)", "Trung vị (median)",
          "P90", "Lâu nhất (longest)", "Trong \(report.targetMinutes) phút (within)",
          "Trong chỉ tiêu %",
        ],
        rows: report.rows.map { r in
          [
            r.key, "\(r.tickets)", CSVTable.number(r.meanWaitMinutes),
            CSVTable.number(r.medianWaitMinutes), CSVTable.number(r.p90WaitMinutes),
            CSVTable.number(r.longestWaitMinutes), "\(r.withinTarget)",
            CSVTable.number(r.withinTargetPercent),
          ]
        }
      ).write(to: csv)
    }
    try self.client.emit(report) {
      func minutes(_ value: Double) -> String { String(format: "%.1f min", value) }
      return
        ([
          "\(report.fromDate) – \(report.toDate) by \(self.groupBy.uppercased())  (target ≤ \(report.targetMinutes) min: \(report.legalSource))"
        ]
        + report.rows.map { r in
          "  \(r.key)  tickets \(r.tickets)  mean \(minutes(r.meanWaitMinutes))  median \(minutes(r.medianWaitMinutes))  p90 \(minutes(r.p90WaitMinutes))  longest \(minutes(r.longestWaitMinutes))  within target \(r.withinTarget) (\(String(format: "%.1f%%", r.withinTargetPercent)))"
        }).joined(separator: "\n")
    }
  }
}

/// `postal-gateway queue ticket`
struct QueueCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "queue",
    abstract: "Staff: the counter's queue tickets.",
    subcommands: [Ticket.self]
  )

  /// `postal-gateway queue ticket NUMBER --issued-at … --called-at …`
  struct Ticket: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Record a queue ticket: when it was issued and when the counter called it."
    )
    @OptionGroup var client: ClientOptions
    @Argument(help: "The ticket's number as printed, e.g. A-012.") var number: String
    @Option(help: "When the citizen took it, ISO 8601 (or give --waited).") var issuedAt: String?
    @Option(help: "When the counter called it, ISO 8601. Default: now.") var calledAt: String?
    @Option(help: "How long the citizen waited, MM:SS (instead of --issued-at).") var waited:
      String?
    @Option(help: "The shipment registered for it, if any.") var trackingNumber: String?
    @Option(help: "Request id (a retry with the same id is safe).") var requestID = UUID()
      .uuidString

    func run() async throws {
      let called =
        try self.calledAt.map { try parseISOTime($0, option: "--called-at") }
        ?? SystemWallClock().now()
      let issued: Timestamp
      switch (self.issuedAt, self.waited) {
      case (let text?, nil):
        issued = try parseISOTime(text, option: "--issued-at")
      case (nil, let text?):
        let parts = text.split(separator: ":").map { Int64($0) }
        guard parts.count == 2, let minutes = parts[0], let seconds = parts[1], minutes >= 0,
          (0 ..< 60).contains(seconds)
        else { throw ValidationError("--waited must be MM:SS, e.g. 12:30") }
        issued = called.advanced(by: .seconds(-(minutes * 60 + seconds)))
      default:
        throw ValidationError("give either --issued-at or --waited")
      }
      let response = try await self.client.withPartnerClient { client in
        try await Postalgateway_V1_CounterService.Client(wrapping: client).recordQueueTicket(
          .with {
            $0.requestID = self.requestID
            $0.ticketNumber = self.number
            $0.issuedAt = issued.proto
            $0.calledAt = called.proto
            $0.trackingNumber = self.trackingNumber ?? ""
          }
        )
      }
      try self.client.emit(response) {
        "ticket \(self.number): waited \(response.waitSeconds / 60) min \(response.waitSeconds % 60) s"
          + (response.created ? "" : " (recorded before)")
      }
    }
  }
}
