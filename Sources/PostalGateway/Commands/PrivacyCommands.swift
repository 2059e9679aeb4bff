import ArgumentParser
import Foundation
import GRPCCore
import Proto
import SwiftProtobuf

/// `postal-gateway audit list`: the access audit.
struct AuditCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "audit",
    abstract: "Reads of unmasked personal data (oversight).",
    subcommands: [List.self]
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
    abstract: "A data subject's access request (oversight).",
    subcommands: [Export.self]
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
