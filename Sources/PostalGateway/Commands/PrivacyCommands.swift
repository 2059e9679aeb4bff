import ArgumentParser
import Foundation
import GRPCCore
import Proto
import SwiftProtobuf

/// `postal-gateway audit list`: the access audit.
struct AuditCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "audit",
    abstract: "Reads of unmasked personal data, and complaints (oversight).",
    subcommands: [List.self, Complaints.self]
  )

  struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract:
        "Who read which shipment's personal data, when, what and why, newest first (oversight certificate)."
    )
    @OptionGroup var client: ClientOptions
    @Option(help: "Only reads of this shipment.") var trackingNumber: String?
    @Option(help: "Only reads by this caller (a SPIFFE ID).") var actor: String?
    @Option(help: "Page size (1–500).") var pageSize: Int32 = 50
    @Option(help: "Token from the previous page.") var pageToken: String?

    func run() async throws {
      let response = try await self.client.withPartnerClient(as: "oversight") { client in
        try await Postalgateway_V1_OversightService.Client(wrapping: client).listAccessRecords(
          .with {
            $0.trackingNumber = self.trackingNumber ?? ""
            $0.actor = self.actor ?? ""
            $0.pageSize = self.pageSize
            $0.pageToken = self.pageToken ?? ""
          }
        )
      }
      try self.client.emit(response) {
        var lines = response.records.map { record in
          let read = "\(record.read)".uppercased()
          let scan = record.documentCode.isEmpty ? "" : " \(record.documentCode)"
          let purpose = record.purpose.isEmpty ? "(no purpose given)" : record.purpose
          return
            "#\(record.sequence)  \(vietnamTime(timestamp(record.at)))  \(record.actor)  \(record.trackingNumber)  \(read)\(scan)  \(purpose)"
        }
        if !response.nextPageToken.isEmpty {
          lines.append("next page: --page-token \(response.nextPageToken)")
        }
        return lines.isEmpty ? "no reads recorded" : lines.joined(separator: "\n")
      }
    }
  }
}

/// `postal-gateway person export`
struct PersonCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "person",
    abstract: "A data subject's requests: export (oversight), correct and erase (operator).",
    subcommands: [Export.self, Correct.self, Erase.self]
  )

  struct Export: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract:
        "Everything held about one person, as JSON: their shipments in full and who read them (oversight certificate; the export is audited)."
    )
    @OptionGroup var client: ClientOptions
    @Option(help: "The person's citizen id or passport number.") var identityNumber: String?
    @Option(help: "Or their mobile number.") var phone: String?
    @Option(help: "Why: the reference of the person's request (required).") var purpose: String
    @Option(help: "Write the JSON here instead of standard output.") var out: String?

    func run() async throws {
      let export = try await self.client.withPartnerClient(as: "oversight") { client in
        try await Postalgateway_V1_OversightService.Client(wrapping: client).exportPersonalData(
          .with {
            $0.applicantIdentityNumber = self.identityNumber ?? ""
            $0.applicantPhone = self.phone ?? ""
            $0.purpose = self.purpose
          }
        )
      }
      var options = JSONEncodingOptions()
      options.preserveProtoFieldNames = true
      let json = try export.jsonString(options: options)
      if let out {
        try Data(json.utf8).write(to: URL(fileURLWithPath: out))
        print(
          "\(export.shipments.count) shipment(s), \(export.accessRecords.count) access record(s) → \(out)"
        )
      } else {
        print(json)
      }
      fflush(nil)
    }
  }
}

/// `postal-gateway rate`
struct RateCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "rate",
    abstract: "Rate the service for a delivered shipment, as a citizen (public listener; once)."
  )

  @OptionGroup var client: ClientOptions
  @Argument(help: "Tracking number.") var trackingNumber: String
  @Option(help: "Verification code given at registration.") var code: String
  @Option(help: "Overall, 1 (very dissatisfied) to 5 (very satisfied).") var overall: Int32
  @Option(help: "The staff's attitude, 1–5.") var staffAttitude: Int32
  @Flag(help: "The result (or the returned papers) came by the appointment.") var onTime = false
  @Option(help: "How many times you had to go or wait in for it.") var trips: Int32 = 1
  @Flag(help: "Someone asked for money beyond the receipt.") var extraCostsAsked = false
  @Option(help: "Your words (at most 1,000 characters).") var comment = ""
  @Flag(help: "File it as a complaint.") var complaint = false
  @Flag(help: "The public listener serves plaintext.") var plaintext = false

  func run() async throws {
    let response = try await self.client.withPublicClient(plaintext: self.plaintext) { client in
      try await Postalgateway_V1_TrackingService.Client(wrapping: client).rateService(
        .with {
          $0.trackingNumber = self.trackingNumber
          $0.verificationCode = self.code
          $0.overall = self.overall
          $0.staffAttitude = self.staffAttitude
          $0.onTime = self.onTime
          $0.trips = self.trips
          $0.extraCostsAsked = self.extraCostsAsked
          $0.comment = self.comment
          $0.complaint = self.complaint
        }
      )
    }
    try self.client.emit(response) {
      "rated \(self.trackingNumber)"
        + (response.complaintOpened ? "; a complaint case is open for the oversight office" : "")
    }
  }
}

extension AuditCommand {
  /// `postal-gateway audit complaints`
  struct Complaints: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Citizens' ratings that opened a complaint, newest first (oversight certificate)."
    )
    @OptionGroup var client: ClientOptions
    @Option(help: "At most this many (1–500).") var limit: Int32 = 50

    func run() async throws {
      let response = try await self.client.withPartnerClient(as: "oversight") { client in
        try await Postalgateway_V1_OversightService.Client(wrapping: client).listComplaints(
          .with { $0.limit = self.limit }
        )
      }
      try self.client.emit(response) {
        let lines = response.complaints.map { c in
          "\(c.trackingNumber)  \(vietnamTime(timestamp(c.ratedAt)))  overall \(c.overall)/5  staff \(c.staffAttitude)/5  trips \(c.trips)"
            + (c.onTime ? "" : "  late") + (c.extraCostsAsked ? "  EXTRA COSTS ASKED" : "")
            + (c.requested ? "  (asked for)" : "") + (c.comment.isEmpty ? "" : "  “\(c.comment)”")
        }
        return lines.isEmpty ? "no complaints" : lines.joined(separator: "\n")
      }
    }
  }
}
