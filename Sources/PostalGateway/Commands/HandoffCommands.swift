import ArgumentParser
import Foundation
import GRPCCore
import Proto
import SwiftProtobuf
import Tracking

/// `postal-gateway agency …`: what an agency system does, from the command line (with the
/// agency's certificate, default `<data-dir>/pki/agency.pem`).
struct AgencyCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "agency",
    abstract:
      "Act as an agency system: watch handoffs, acknowledge, ask for supplements, report results.",
    subcommands: [
      Watch.self, Acknowledge.self, Supplement.self, Refuse.self, Extend.self, ResultReady.self,
      Dossier.self,
    ]
  )

  struct Watch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Stream this agency's handoffs (pull mode), one line each with its cursor."
    )
    @OptionGroup var client: ClientOptions
    @Option(help: "Resume after this cursor.") var after: Int64 = 0
    @Option(help: "Stop after this many notices (default: run until interrupted).") var count: Int?

    func run() async throws {
      try await self.client.withPartnerClient(as: "agency") { client in
        try await Postalgateway_V1_AgencyService.Client(wrapping: client).watchHandoffs(
          .with { $0.afterCursor = self.after }
        ) { response in
          var seen = 0
          for try await notice in response.messages {
            try self.client.emit(notice) {
              let d = notice.dossier
              return
                "cursor \(notice.cursor)  \(d.handoffID)  \(d.procedureCode)  \(d.scans.count) scan(s)  fee \(d.feeCollectedVnd) VND"
            }
            seen += 1
            if let count = self.count, seen >= count { break }
          }
        }
      }
    }
  }

  struct Acknowledge: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Accept a handoff with the agency's dossier code, or reject it with a reason."
    )
    @OptionGroup var client: ClientOptions
    @Argument(help: "Handoff id, e.g. EA000000080VN-H1.") var handoffID: String
    @Option(help: "The agency's dossier code, e.g. 000.00.00.H55-261129-0042.") var dossierCode:
      String?
    @Option(help: "Result appointment date, YYYY-MM-DD.") var appointment: String?
    @Option(help: "Reject with this reason instead of accepting.") var reject: String?
    @Option(help: "Idempotency key. Default: a new UUID.") var requestID: String?

    func run() async throws {
      var request = Postalgateway_V1_AcknowledgeHandoffRequest()
      request.requestID = self.requestID ?? UUID().uuidString
      request.handoffID = self.handoffID
      if let reason = self.reject {
        request.rejected = .with { $0.reason = reason }
      } else {
        guard let code = self.dossierCode else {
          throw ValidationError("give --dossier-code to accept, or --reject REASON")
        }
        request.accepted = .with {
          $0.dossierCode = code
          $0.receivedAt = Google_Protobuf_Timestamp(date: Date())
          $0.appointmentDate = self.appointment ?? ""
        }
      }
      let response = try await self.client.withPartnerClient(as: "agency") { client in
        try await Postalgateway_V1_AgencyService.Client(wrapping: client).acknowledgeHandoff(
          request
        )
      }
      try self.client.emit(response) { "\(response.trackingNumber): \(wireName(response.state))" }
    }
  }

  struct Supplement: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract:
        "Ask once, within 3 working days of the filing, for everything missing (NĐ 61/2018 art. 19.4)."
    )
    @OptionGroup var client: ClientOptions
    @Argument(help: "Tracking number.") var trackingNumber: String
    @Option(
      name: .customLong("item"),
      help: "A missing paper and why, as \"DOCUMENT: REASON\" (repeatable)."
    )
    var items: [String] = []
    @Option(
      name: .customLong("missing"),
      help: "A missing paper without its own reason (repeatable)."
    )
    var missing: [String] = []
    @Option(help: "Why (required with --missing).") var reason: String = ""
    @Option(help: "Idempotency key. Default: a new UUID.") var requestID: String?

    func run() async throws {
      let request = Postalgateway_V1_RequestSupplementRequest.with {
        $0.requestID = self.requestID ?? UUID().uuidString
        $0.trackingNumber = self.trackingNumber
        $0.missingItems = self.missing
        $0.items = self.items.map { text in
          let parts = text.split(separator: ":", maxSplits: 1)
          return .with {
            $0.document = String(parts[0]).trimmingCharacters(in: .whitespaces)
            $0.reason =
              parts.count > 1 ? String(parts[1]).trimmingCharacters(in: .whitespaces) : ""
          }
        }
        $0.reason = self.reason
      }
      let response = try await self.client.withPartnerClient(as: "agency") { client in
        try await Postalgateway_V1_AgencyService.Client(wrapping: client).requestSupplement(request)
      }
      try self.client.emit(response) { "\(response.trackingNumber): \(wireName(response.state))" }
    }
  }

  struct Refuse: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract:
        "Refuse a dossier the agency holds (NĐ 61/2018 art. 19.8); its papers go back to the applicant."
    )
    @OptionGroup var client: ClientOptions
    @Argument(help: "Tracking number.") var trackingNumber: String
    @Option(help: "The reasons, as on the refusal notice.") var reason: String
    @Option(help: "Idempotency key. Default: a new UUID.") var requestID: String?

    func run() async throws {
      let response = try await self.client.withPartnerClient(as: "agency") { client in
        try await Postalgateway_V1_AgencyService.Client(wrapping: client).refuseDossier(
          .with {
            $0.requestID = self.requestID ?? UUID().uuidString
            $0.trackingNumber = self.trackingNumber
            $0.reason = self.reason
          }
        )
      }
      try self.client.emit(response) { "\(response.trackingNumber): \(wireName(response.state))" }
    }
  }

  struct Extend: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract:
        "Extend the processing once, at least one working day before the due date, with an apology."
    )
    @OptionGroup var client: ClientOptions
    @Argument(help: "Tracking number.") var trackingNumber: String
    @Option(help: "The new due date, YYYY-MM-DD.") var to: String
    @Option(help: "Why.") var reason: String
    @Option(help: "The apology to the citizen.") var apology: String
    @Option(help: "Idempotency key. Default: a new UUID.") var requestID: String?

    func run() async throws {
      let request = Postalgateway_V1_ExtendProcessingRequest.with {
        $0.requestID = self.requestID ?? UUID().uuidString
        $0.trackingNumber = self.trackingNumber
        $0.newDueDate = self.to
        $0.reason = self.reason
        $0.apology = self.apology
      }
      let response = try await self.client.withPartnerClient(as: "agency") { client in
        try await Postalgateway_V1_AgencyService.Client(wrapping: client).extendProcessing(request)
      }
      try self.client.emit(response) { "\(response.trackingNumber): \(wireName(response.state))" }
    }
  }

  struct ResultReady: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "result-ready",
      abstract: "Say the result is ready to be collected."
    )
    @OptionGroup var client: ClientOptions
    @Argument(help: "Tracking number.") var trackingNumber: String
    @Option(name: .customLong("document"), help: "A result document (repeatable).") var documents:
      [String] = []
    @Option(name: .customLong("original"), help: "An original to return (repeatable).")
    var originals: [String] = []
    @Option(name: .customLong("recall"), help: "A paper to recall at delivery (repeatable).")
    var recall: [String] = []
    @Option(help: "Fee to collect on delivery, VND.") var fee: Int64 = 0
    @Option(help: "Where the courier collects it.") var collectAt: String
    @Option(help: "Idempotency key. Default: a new UUID.") var requestID: String?

    func run() async throws {
      let request = Postalgateway_V1_ReportResultReadyRequest.with {
        $0.requestID = self.requestID ?? UUID().uuidString
        $0.trackingNumber = self.trackingNumber
        $0.documents = self.documents
        $0.originalsToReturn = self.originals
        $0.papersToRecall = self.recall
        $0.feeToCollectVnd = self.fee
        $0.collectAt = self.collectAt
      }
      let response = try await self.client.withPartnerClient(as: "agency") { client in
        try await Postalgateway_V1_AgencyService.Client(wrapping: client).reportResultReady(request)
      }
      try self.client.emit(response) { "\(response.trackingNumber): \(wireName(response.state))" }
    }
  }

  struct Dossier: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Show a dossier as it was handed off."
    )
    @OptionGroup var client: ClientOptions
    @Argument(help: "Tracking number.") var trackingNumber: String
    @Option(help: "Why you read this personal data (kept in the access audit).")
    var purpose = ""

    func run() async throws {
      let dossier = try await self.client.withPartnerClient(as: "agency") { client in
        try await Postalgateway_V1_AgencyService.Client(wrapping: client).getDossier(
          .with {
            $0.trackingNumber = self.trackingNumber
            $0.purpose = self.purpose
          }
        )
      }
      try self.client.emit(dossier) {
        (["\(dossier.handoffID)  \(dossier.trackingNumber)  procedure \(dossier.procedureCode)"]
          + dossier.scans.map { "  \($0.documentID)  \($0.documentCode)  sha256 \($0.sha256)" })
          .joined(separator: "\n")
      }
    }
  }
}

/// `postal-gateway handoffs …`: the operator's view of agency channels (with the operator's
/// certificate, default `<data-dir>/pki/operator.pem`).
struct HandoffsCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "handoffs",
    abstract: "Operator: agency channel status, the handoff queue, and dead-letter retries.",
    subcommands: [Status.self, List.self, Retry.self]
  )

  struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract:
        "Per agency: mode, endpoint, state (UP, RETRYING, DEAD_LETTERED), queue, last error."
    )
    @OptionGroup var client: ClientOptions
    @Option(help: "Only this agency.") var agency: String?

    func run() async throws {
      let response = try await self.client.withPartnerClient(as: "operator") { client in
        try await Postalgateway_V1_OperatorService.Client(wrapping: client).listChannels(
          .with { $0.agencyCode = self.agency ?? "" }
        )
      }
      try self.client.emit(response) {
        response.channels.map { c in
          "\(c.agencyCode)  \(wireName(c.mode))  \(c.endpoint.isEmpty ? "-" : c.endpoint)  \(c.state)  queue \(c.queueDepth)  dead \(c.deadLetters)"
            + (c.lastError.isEmpty ? "" : "\n  last error: \(c.lastError)")
        }.joined(separator: "\n")
      }
    }
  }

  struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Handoffs, newest first.")
    @OptionGroup var client: ClientOptions
    @Option(help: "Only this agency.") var agency: String?
    @Option(help: "Only pending, accepted, rejected or dead.") var status: String?
    @Option(help: "At most this many.") var limit: Int32 = 100

    func run() async throws {
      var request = Postalgateway_V1_ListHandoffsRequest()
      request.agencyCode = self.agency ?? ""
      request.limit = self.limit
      if let status = self.status {
        guard let parsed = HandoffStatus(rawValue: status.uppercased()) else {
          throw ValidationError("--status must be pending, accepted, rejected or dead")
        }
        request.status = parsed.proto
      }
      let response = try await self.client.withPartnerClient(as: "operator") { client in
        try await Postalgateway_V1_OperatorService.Client(wrapping: client).listHandoffs(request)
      }
      try self.client.emit(response) {
        response.handoffs.map {
          "\($0.handoffID)  \($0.agencyCode)  \(wireName($0.mode))  \($0.status)  attempts \($0.attempts)"
            + ($0.lastError.isEmpty ? "" : "  last error: \($0.lastError)")
        }.joined(separator: "\n")
      }
    }
  }

  struct Retry: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Put a dead-lettered handoff back in the queue."
    )
    @OptionGroup var client: ClientOptions
    @Argument(help: "Handoff id.") var handoffID: String

    func run() async throws {
      let handoff = try await self.client.withPartnerClient(as: "operator") { client in
        try await Postalgateway_V1_OperatorService.Client(wrapping: client).retryHandoff(
          .with { $0.handoffID = self.handoffID }
        )
      }
      try self.client.emit(handoff) { "\(handoff.handoffID): \(handoff.status), attempts reset" }
    }
  }
}
