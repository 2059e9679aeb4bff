import ArgumentParser
import Foundation
import GRPCCore
import Proto
import SwiftProtobuf
import Tracking

/// `postal-gateway collection record NUMBER --item ID:original:PAGES …`
struct CollectionCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "collection",
    abstract: "Count and check a dossier (staff).",
    subcommands: [Record.self]
  )

  struct Record: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract:
        "Record what the citizen handed over; prints the guidance when something is missing."
    )
    @OptionGroup var client: ClientOptions
    @Argument(help: "Tracking number.") var trackingNumber: String
    @Option(name: .customLong("item"), help: "DOCUMENT_ID:original|copy:PAGES (repeatable).")
    var items: [String] = []
    @Option(help: "Seal id (required for a complete dossier).") var seal: String?
    @Option(help: "Procedure fee collected, VND (the dossier's fee, or 0).") var fee: Int64 = 0
    @Option(help: "Copies of the result asked for.") var copies: Int32 = 1
    @Option(help: "Postage, VND.") var postage: Int64 = 0
    @Option(help: "Idempotency key. Default: a new UUID.") var requestID: String?

    func run() async throws {
      var request = Postalgateway_V1_RecordCollectionRequest()
      request.requestID = self.requestID ?? UUID().uuidString
      request.trackingNumber = self.trackingNumber
      request.items = try self.items.map { text in
        let parts = text.split(separator: ":").map(String.init)
        guard parts.count == 3, let pages = Int32(parts[2]),
          ["original", "copy"].contains(parts[1])
        else {
          throw ValidationError("--item must be DOCUMENT_ID:original|copy:PAGES, got \(text)")
        }
        return .with {
          $0.documentID = parts[0]
          $0.form = parts[1] == "original" ? .original : .copy
          $0.pages = pages
        }
      }
      request.sealID = self.seal ?? ""
      request.feeCollectedVnd = self.fee
      request.copies = self.copies
      request.postageVnd = self.postage
      let response = try await self.client.withPartnerClient { client in
        try await Postalgateway_V1_CounterService.Client(wrapping: client).recordCollection(request)
      }
      try self.client.emit(response) {
        if response.complete {
          let collection = response.event.collection
          return
            (["\(response.shipment.trackingNumber): COLLECTED, receipt \(collection.receiptID)"]
            + (collection.feeLines + (collection.hasPostageLine ? [collection.postageLine] : []))
            .map {
              "  \($0.description_p)  \($0.quantity) × \($0.unitVnd) = \($0.amountVnd) VND"
            })
            .joined(separator: "\n")
        }
        return
          (["\(response.shipment.trackingNumber): INCOMPLETE_GUIDED; still needed:"]
          + response.missing.map {
            "  \($0.documentID) (\($0.form), ×\($0.quantity))  \($0.name)"
              + ($0.alternatives.isEmpty
                ? "" : "  [any of \($0.alternatives.joined(separator: ", "))]")
          })
          .joined(separator: "\n")
      }
    }
  }
}

/// `postal-gateway result collect …`
struct ResultCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "result",
    abstract: "The result leg (staff).",
    subcommands: [Collect.self]
  )

  struct Collect: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract:
        "Record the result taken at the agency, or a refused dossier's originals and refusal notice (the return leg)."
    )
    @OptionGroup var client: ClientOptions
    @Argument(help: "Tracking number.") var trackingNumber: String
    @Option(name: .customLong("document"), help: "A result document (repeatable).") var documents:
      [String] = []
    @Option(
      name: .customLong("original"),
      help: "An original returned with the result (repeatable)."
    ) var originals: [String] = []
    @Option(name: .customLong("recall"), help: "A paper to take back at delivery (repeatable).")
    var recall: [String] = []
    @Option(help: "Fee to collect on delivery, VND.") var fee: Int64 = 0
    @Option(help: "Seal id.") var seal: String
    @Option(help: "Idempotency key. Default: a new UUID.") var requestID: String?
    @Option(help: "When, ISO 8601. Default: now.") var occurredAt: String?
    @OptionGroup(title: "Handover (the agency gives the result)") var handover: HandoverSigning

    func run() async throws {
      let occurred =
        try self.occurredAt.map { try parseISOTime($0, option: "--occurred-at") }
        ?? SystemWallClock().now()
      let caller = try self.client.callerID
      var request = Postalgateway_V1_RecordResultCollectedRequest.with {
        $0.occurredAt = occurred.proto
        $0.requestID = self.requestID ?? UUID().uuidString
        $0.trackingNumber = self.trackingNumber
        $0.result = .with {
          $0.documents = self.documents
          $0.originalsToReturn = self.originals
          $0.papersToRecall = self.recall
          $0.feeToCollectVnd = self.fee
          $0.sealID = self.seal
        }
      }
      let response = try await self.client.withPartnerClient { client in
        let counter = Postalgateway_V1_CounterService.Client(wrapping: client)
        let shipment = try await counter.getShipment(
          .with {
            $0.trackingNumber = self.trackingNumber
            $0.purpose = "signing the handover of the result"
          }
        )
        // A refused dossier starts its return leg; its papers may never have left the post.
        let kind: EventKind =
          shipment.state == .rejectedByAgency ? .returnCollected : .resultCollected
        if kind == .resultCollected || self.handover.isRequested {
          request.handover = try self.handover.handover(
            for: shipment,
            kind: kind,
            caller: caller,
            occurredAt: occurred,
            resultSeal: self.seal
          )
        }
        return try await counter.recordResultCollected(request)
      }
      try self.client.emit(response) {
        "\(response.shipment.trackingNumber): \(wireName(response.shipment.state))"
      }
    }
  }
}

/// `postal-gateway delivery attempt …`
struct DeliveryCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "delivery",
    abstract: "Delivery attempts (staff).",
    subcommands: [Attempt.self]
  )

  struct Attempt: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Record a delivery: --failed REASON, or --delivered with the proof."
    )
    enum Reason: String, ExpressibleByArgument, CaseIterable {
      case recipientAbsent = "recipient-absent"
      case refused
      case wrongAddress = "wrong-address"
      case identityMismatch = "identity-mismatch"
      case proxyNotAuthorized = "proxy-not-authorized"
      case feeNotPaid = "fee-not-paid"
      case premisesClosed = "premises-closed"
      case other
    }
    enum IDType: String, ExpressibleByArgument, CaseIterable {
      case cccd, passport

      var proto: Postalgateway_V1_IdentityDocumentType {
        switch self {
        case .cccd: .citizenIDCard
        case .passport: .passport
        }
      }
    }

    @OptionGroup var client: ClientOptions
    @Argument(help: "Tracking number.") var trackingNumber: String
    @Option(help: "The attempt failed for this reason.") var failed: Reason?
    @Flag(help: "The result was handed over (give the proof options).") var delivered = false
    @Option(help: "Recipient's name.") var recipientName: String?
    @Option(help: "Identity paper shown: cccd or passport (a CMND is no longer valid).") var idType:
      IDType =
        .cccd
    @Option(help: "Its number (kept only hashed and masked).") var idNumber: String?
    @Option(help: "For a proxy: the authorization letter's reference.") var authorization: String?
    @Option(help: "SHA-256 (hex) of the signature image.") var signatureSha256: String?
    @Option(help: "SHA-256 (hex) of the delivery photo.") var photoSha256: String?
    @Option(name: .customLong("recalled"), help: "A paper taken back (repeatable).") var recalled:
      [String] = []
    @Option(help: "Fees collected, VND.") var fees: Int64 = 0
    @Option(help: "When, ISO 8601. Default: now.") var occurredAt: String?
    @Option(help: "Idempotency key. Default: a new UUID.") var requestID: String?

    func run() async throws {
      var request = Postalgateway_V1_RecordDeliveryAttemptRequest()
      request.requestID = self.requestID ?? UUID().uuidString
      request.trackingNumber = self.trackingNumber
      if let occurredAt {
        request.occurredAt = try parseISOTime(occurredAt, option: "--occurred-at").proto
      }
      switch (self.failed, self.delivered) {
      case (let reason?, false):
        // The option names are the domain's raw values in lower case with dashes.
        request.failed =
          DeliveryFailureReason(
            rawValue: reason.rawValue.uppercased().replacingOccurrences(of: "-", with: "_")
          )!.proto
      case (nil, true):
        request.delivered = .with {
          $0.recipientName = self.recipientName ?? ""
          $0.identityType = self.idType.proto
          $0.identityNumber = self.idNumber ?? ""
          $0.authorizationReference = self.authorization ?? ""
          $0.signatureSha256 = self.signatureSha256 ?? ""
          $0.photoSha256 = self.photoSha256 ?? ""
          $0.papersRecalled = self.recalled
          $0.feesCollectedVnd = self.fees
        }
      default:
        throw ValidationError("give either --failed REASON or --delivered")
      }
      let response = try await self.client.withPartnerClient { client in
        try await Postalgateway_V1_CounterService.Client(wrapping: client).recordDeliveryAttempt(
          request
        )
      }
      try self.client.emit(response) {
        "\(response.shipment.trackingNumber): \(wireName(response.shipment.state))"
      }
    }
  }
}

/// `postal-gateway damage record …`
struct DamageCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "damage",
    abstract: "Damaged envelopes (staff).",
    subcommands: [Record.self]
  )

  struct Record: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Record the inventory and the new seal."
    )
    @OptionGroup var client: ClientOptions
    @Argument(help: "Tracking number.") var trackingNumber: String
    @Option(name: .customLong("inventory"), help: "An inventory line (repeatable).") var inventory:
      [String] = []
    @Option(help: "The seal of the new wrapping.") var newSeal: String
    @Option(help: "Idempotency key. Default: a new UUID.") var requestID: String?

    func run() async throws {
      let request = Postalgateway_V1_RecordDamageRequest.with {
        $0.requestID = self.requestID ?? UUID().uuidString
        $0.trackingNumber = self.trackingNumber
        $0.inventory = self.inventory
        $0.newSealID = self.newSeal
      }
      let response = try await self.client.withPartnerClient { client in
        try await Postalgateway_V1_CounterService.Client(wrapping: client).recordDamage(request)
      }
      try self.client.emit(response) {
        "\(response.shipment.trackingNumber): seal \(response.shipment.currentSealID)"
      }
    }
  }
}

extension EventCommand {
  /// `postal-gateway event correct NUMBER --sequence N --reason …`
  struct Correct: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Void a wrongly recorded event.")
    @OptionGroup var client: ClientOptions
    @Argument(help: "Tracking number.") var trackingNumber: String
    @Option(help: "The event's sequence number.") var sequence: Int64
    @Option(help: "Why it is wrong.") var reason: String
    @Option(help: "Idempotency key. Default: a new UUID.") var requestID: String?

    func run() async throws {
      let request = Postalgateway_V1_CorrectEventRequest.with {
        $0.requestID = self.requestID ?? UUID().uuidString
        $0.trackingNumber = self.trackingNumber
        $0.sequence = self.sequence
        $0.reason = self.reason
      }
      let response = try await self.client.withPartnerClient { client in
        try await Postalgateway_V1_CounterService.Client(wrapping: client).correctEvent(request)
      }
      try self.client.emit(response) {
        "\(response.shipment.trackingNumber): event \(self.sequence) voided; now \(wireName(response.shipment.state))"
      }
    }
  }
}

/// `postal-gateway access reissue-code|unlock NUMBER` (staff, after checking the citizen).
struct AccessCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "access",
    abstract: "A citizen's access to tracking (staff, after checking who they are).",
    subcommands: [ReissueCode.self, Unlock.self]
  )

  struct ReissueCode: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "reissue-code",
      abstract: "Give the citizen a new verification code; the old one stops working."
    )
    @OptionGroup var client: ClientOptions
    @Argument(help: "Tracking number.") var trackingNumber: String
    @Option(help: "Idempotency key. Default: a new UUID.") var requestID: String?

    func run() async throws {
      let response = try await self.client.withPartnerClient { client in
        try await Postalgateway_V1_CounterService.Client(wrapping: client).reissueVerificationCode(
          .with {
            $0.requestID = self.requestID ?? UUID().uuidString
            $0.trackingNumber = self.trackingNumber
          }
        )
      }
      try self.client.emit(response) {
        "\(response.shipment.trackingNumber): new verification code \(response.verificationCode)   (give it to the citizen; it is shown once)"
      }
    }
  }

  struct Unlock: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Lift the number's tracking lockout and slowdown."
    )
    @OptionGroup var client: ClientOptions
    @Argument(help: "Tracking number.") var trackingNumber: String
    @Option(help: "Idempotency key. Default: a new UUID.") var requestID: String?

    func run() async throws {
      let response = try await self.client.withPartnerClient { client in
        try await Postalgateway_V1_CounterService.Client(wrapping: client).unlockTracking(
          .with {
            $0.requestID = self.requestID ?? UUID().uuidString
            $0.trackingNumber = self.trackingNumber
          }
        )
      }
      try self.client.emit(response) {
        "\(response.shipment.trackingNumber): tracking unlocked (event \(response.event.sequence))"
      }
    }
  }
}
