import ArgumentParser
import Foundation
import GRPCCore
import Proto
import SwiftProtobuf
import Tracking

/// `postal-gateway pickup register …`
struct PickupCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "pickup",
    abstract: "Book pickups (staff).",
    subcommands: [Register.self]
  )

  struct Register: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Register a pickup; prints the tracking number and the citizen's code."
    )

    enum Service: String, ExpressibleByArgument, CaseIterable {
      case dossierOnly = "dossier-only"
      case resultOnly = "result-only"
      case dossierAndResult = "dossier-and-result"
    }

    @OptionGroup var client: ClientOptions

    @Option(help: "dossier-only, result-only or dossier-and-result.")
    var serviceType: Service = .dossierAndResult
    @OptionGroup var applicant: ApplicantOptions
    @Option(help: "Procedure code D.DDDDDD.") var procedure: String
    @Option(help: "Destination agency code, e.g. 000.00.00.H55. Default: the catalog's.")
    var agency: String?
    @Option(help: "Counter pickup at this post office (6 digits).") var postOffice: String?
    @Flag(help: "Home pickup at the applicant's address (needs --window-start/--window-end).")
    var home = false
    @Option(help: "Home pickup window start, ISO 8601.") var windowStart: String?
    @Option(help: "Home pickup window end, ISO 8601.") var windowEnd: String?
    @Option(
      help:
        "The citizen's consent to be told about the dossier: sms, zalo or none (the default)."
    )
    var notify: NotificationChoice = .none
    @Option(help: "Idempotency key. Default: a new UUID.") var requestID: String?

    func run() async throws {
      var request = Postalgateway_V1_RegisterPickupRequest()
      request.requestID = self.requestID ?? UUID().uuidString
      request.notificationChannel = self.notify.channel.proto
      switch self.serviceType {
      case .dossierOnly: request.serviceType = .dossierOnly
      case .resultOnly: request.serviceType = .resultOnly
      case .dossierAndResult: request.serviceType = .dossierAndResult
      }
      let address = self.applicant.address
      request.applicant = self.applicant.wire
      request.procedureCode = self.procedure
      request.destinationAgencyCode = self.agency ?? ""
      if self.home {
        guard let windowStart, let windowEnd else {
          throw ValidationError("--home needs --window-start and --window-end")
        }
        let start = try parseISOTime(windowStart, option: "--window-start")
        let end = try parseISOTime(windowEnd, option: "--window-end")
        request.pickup.home = .with {
          $0.address = address
          $0.window = .with {
            $0.start = start.proto
            $0.end = end.proto
          }
          $0.postOfficeCode = self.postOffice ?? ""
        }
      } else {
        guard let postOffice else { throw ValidationError("give --post-office or --home") }
        request.pickup.counter = .with { $0.postOfficeCode = postOffice }
      }
      let response = try await self.client.withPartnerClient { client in
        try await Postalgateway_V1_CounterService.Client(wrapping: client).registerPickup(request)
      }
      try self.client.emit(response) {
        """
        tracking number:   \(response.shipment.trackingNumber)
        verification code: \(response.verificationCode)   (give it to the citizen; it is shown once)
        state:             \(wireName(response.shipment.state))
        """
      }
    }
  }
}

/// `postal-gateway event record …`
struct EventCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "event",
    abstract: "Record shipment events (staff).",
    subcommands: [Record.self, Correct.self]
  )

  struct Record: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Record one event.")

    enum Kind: String, ExpressibleByArgument, CaseIterable {
      case guidedIncomplete = "guided-incomplete"
      case collected
      case dispatched
      case transitScan = "transit-scan"
      case handedToAgency = "handed-to-agency"
      case appointmentReceived = "appointment-received"
      case appointmentNotified = "appointment-notified"
      case resultReady = "result-ready"
      case outForDelivery = "out-for-delivery"
      case returnedToAgency = "returned-to-agency"
      case supplementDelivered = "supplement-delivered"
      case lost
      case cancelled

      var proto: Postalgateway_V1_EventType {
        switch self {
        case .supplementDelivered: .supplementDelivered
        case .resultReady: .resultReady
        case .outForDelivery: .outForDelivery
        case .returnedToAgency: .returnedToAgency
        case .lost: .lost
        case .guidedIncomplete: .guidedIncomplete
        case .collected: .collected
        case .dispatched: .dispatched
        case .transitScan: .transitScan
        case .handedToAgency: .handedToAgency
        case .appointmentReceived: .appointmentReceived
        case .appointmentNotified: .appointmentNotified
        case .cancelled: .cancelled
        }
      }
    }

    @OptionGroup var client: ClientOptions
    @Argument(help: "Tracking number.") var trackingNumber: String
    @Option(help: "Event type.") var type: Kind
    @Option(help: "Post office where it happened. Default: the caller's.") var location: String?
    @Option(help: "When it happened, ISO 8601. Default: now.") var occurredAt: String?
    @Option(help: "Note (not shown to citizens).") var note: String?
    @Option(help: "Idempotency key. Default: a new UUID.") var requestID: String?
    @OptionGroup(title: "Handover (handed-to-agency)") var handover: HandoverSigning

    func run() async throws {
      var request = Postalgateway_V1_RecordEventRequest()
      request.requestID = self.requestID ?? UUID().uuidString
      request.trackingNumber = self.trackingNumber
      request.type = self.type.proto
      if let location { request.location = location }
      if let note { request.note = note }
      let occurred =
        try self.occurredAt.map { try parseISOTime($0, option: "--occurred-at") }
        ?? SystemWallClock().now()
      if self.occurredAt != nil || self.type == .handedToAgency {
        request.occurredAt = occurred.proto
      }
      let caller = try self.client.callerID
      let response = try await self.client.withPartnerClient { client in
        let counter = Postalgateway_V1_CounterService.Client(wrapping: client)
        if self.type == .handedToAgency {
          let shipment = try await counter.getShipment(
            .with {
              $0.trackingNumber = self.trackingNumber
              $0.purpose = "signing the handover to the agency"
            }
          )
          request.handover = try self.handover.handover(
            for: shipment,
            kind: .handedToAgency,
            caller: caller,
            occurredAt: occurred,
            resultSeal: nil
          )
        }
        return try await counter.recordEvent(request)
      }
      try self.client.emit(response) {
        "\(response.shipment.trackingNumber): \(wireName(response.event.fromState)) → \(wireName(response.event.toState)) (event \(response.event.sequence))"
      }
    }
  }
}

/// `postal-gateway shipment show|list`
struct ShipmentCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "shipment",
    abstract: "Look shipments up (staff).",
    subcommands: [Show.self, List.self]
  )

  struct Show: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show a shipment and its history.")

    @OptionGroup var client: ClientOptions
    @Argument(help: "Tracking number.") var trackingNumber: String
    @Option(help: "Why you read this personal data (kept in the access audit).")
    var purpose = ""

    func run() async throws {
      let shipment = try await self.client.withPartnerClient { client in
        try await Postalgateway_V1_CounterService.Client(wrapping: client).getShipment(
          .with {
            $0.trackingNumber = self.trackingNumber
            $0.purpose = self.purpose
          }
        )
      }
      try self.client.emit(shipment) { render(shipment) }
    }
  }

  struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List shipments, newest first.")

    @OptionGroup var client: ClientOptions
    @Option(help: "Only this state, e.g. IN_TRANSIT.") var state: String?
    @Option(help: "Only this origin post office.") var postOffice: String?
    @Option(help: "Created at or after, ISO 8601.") var createdAfter: String?
    @Option(help: "Created before, ISO 8601.") var createdBefore: String?
    @Option(help: "Page size (1–500).") var pageSize: Int32 = 50
    @Option(help: "Token from the previous page.") var pageToken: String?
    @Option(help: "Only this applicant's citizen id or passport number (through a blind index).")
    var identityNumber: String?
    @Option(help: "Only this applicant's mobile number (through a blind index).")
    var phone: String?
    @Option(help: "Why you read this personal data (kept in the access audit).")
    var purpose = ""

    func run() async throws {
      var request = Postalgateway_V1_ListShipmentsRequest()
      request.pageSize = self.pageSize
      request.purpose = self.purpose
      if let identityNumber { request.applicantIdentityNumber = identityNumber }
      if let phone { request.applicantPhone = phone }
      if let state {
        guard let value = ShipmentState(rawValue: state.uppercased()) else {
          throw ValidationError(
            "unknown state \(state); one of \(ShipmentState.allCases.map(\.rawValue))"
          )
        }
        request.state = value.proto
      }
      if let postOffice { request.postOfficeCode = postOffice }
      if let createdAfter {
        request.createdAfter = try parseISOTime(createdAfter, option: "--created-after").proto
      }
      if let createdBefore {
        request.createdBefore = try parseISOTime(createdBefore, option: "--created-before").proto
      }
      if let pageToken { request.pageToken = pageToken }
      let response = try await self.client.withPartnerClient { client in
        try await Postalgateway_V1_CounterService.Client(wrapping: client).listShipments(request)
      }
      try self.client.emit(response) {
        var lines = response.shipments.map {
          "\($0.trackingNumber)  \(wireName($0.state))  office \($0.originPostOfficeCode)  \(vietnamTime(timestamp($0.createdAt)))"
        }
        if !response.nextPageToken.isEmpty {
          lines.append("next page: --page-token \(response.nextPageToken)")
        }
        return lines.isEmpty ? "no shipments" : lines.joined(separator: "\n")
      }
    }
  }
}

/// `postal-gateway track …` (public listener).
struct TrackCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "track",
    abstract: "Track a shipment as a citizen (public listener)."
  )

  @OptionGroup var client: ClientOptions
  @Argument(help: "Tracking number.") var trackingNumber: String
  @Option(help: "Verification code given at registration.") var code: String
  @Flag(help: "The public listener serves plaintext.") var plaintext = false
  @Option(help: "Language of the texts: vi (default) or en.") var language = "vi"

  func run() async throws {
    let response = try await self.client.withPublicClient(plaintext: self.plaintext) { client in
      try await Postalgateway_V1_TrackingService.Client(wrapping: client).trackShipment(
        .with {
          $0.trackingNumber = self.trackingNumber
          $0.verificationCode = self.code
          $0.language = self.language
        }
      )
    }
    let shipment = response.shipment
    try self.client.emit(response) {
      var lines = [
        "\(shipment.trackingNumber)  \(wireName(shipment.state))  \(shipment.statusText)",
        "applicant \(shipment.applicantNameMasked)  phone \(shipment.phoneMasked)",
        "procedure \(shipment.procedureCode) → agency \(shipment.destinationAgencyCode)",
        "notifications \(wireName(shipment.notificationChannel))",
      ]
      for entry in shipment.timeline {
        lines.append(
          "  \(vietnamTime(timestamp(entry.occurredAt)))  \(entry.text)  (\(wireName(entry.type)), \(entry.location))"
        )
      }
      lines += shipment.notes
      for item in shipment.supplementItems {
        lines.append(
          "  missing: \(item.document)" + (item.reason.isEmpty ? "" : " (\(item.reason))")
        )
      }
      lines += shipment.hopLines.map { "  \($0)" }
      return lines.joined(separator: "\n")
    }
  }
}

/// The wire enums printed by their domain names (IN_TRANSIT, COLLECTED, …).
func wireName(_ state: Postalgateway_V1_ShipmentState) -> String {
  (try? ShipmentState(state))?.rawValue ?? "UNSPECIFIED"
}

func wireName(_ type: Postalgateway_V1_EventType) -> String {
  (try? EventKind(type))?.rawValue ?? "UNSPECIFIED"
}

func wireName(_ type: Postalgateway_V1_ServiceType) -> String {
  (try? ServiceType(type))?.rawValue ?? "UNSPECIFIED"
}

func wireName(_ mode: Postalgateway_V1_HandoffMode) -> String {
  HandoffMode.allCases.first { $0.proto == mode }?.rawValue ?? "UNSPECIFIED"
}

func timestamp(_ proto: Google_Protobuf_Timestamp) -> Timestamp {
  Timestamp(seconds: proto.seconds, nanoseconds: proto.nanos)
}

func render(_ shipment: Postalgateway_V1_Shipment) -> String {
  var lines = [
    "\(shipment.trackingNumber)  \(wireName(shipment.state))  (\(wireName(shipment.serviceType)), version \(shipment.version))",
    "procedure \(shipment.procedureCode) → agency \(shipment.destinationAgencyCode), origin office \(shipment.originPostOfficeCode)",
  ]
  if !shipment.currentSealID.isEmpty { lines.append("seal \(shipment.currentSealID)") }
  if !shipment.unscannedDocumentIds.isEmpty {
    lines.append("not yet scanned: \(shipment.unscannedDocumentIds.joined(separator: ", "))")
  }
  for event in shipment.events {
    lines.append(
      "  \(event.sequence). \(vietnamTime(timestamp(event.occurredAt)))  \(wireName(event.type))  → \(wireName(event.toState))  at \(event.location)  by \(event.actor)"
        + (event.note.isEmpty ? "" : "  note: \(event.note)")
        + (event.voided ? "  [voided]" : "")
        + detail(event)
    )
  }
  lines += shipment.hops.map(hopLine)
  return lines.joined(separator: "\n")
}

/// One line per leg: `DOSSIER_LEG  WITHIN_COMMUNE  due 2026-03-03, EARLY`.
func hopLine(_ hop: Postalgateway_V1_HopTimeliness) -> String {
  "  \(SLACommand.hopName(hop.hop))"
    + (hop.routeClass.isEmpty ? "" : "  \(hop.routeClass)")
    + "  \(SLACommand.status(hop))"
    + (hop.provisional ? "  PROVISIONAL" : "")
}

/// One line of an event's details for people.
private func detail(_ event: Postalgateway_V1_ShipmentEvent) -> String {
  switch event.details {
  case .collection(let c):
    "  seal \(c.sealID), fee \(c.feeCollectedVnd) VND, postage \(c.postageVnd) VND, receipt \(c.receiptID)"
  case .guidance(let g):
    "  missing: \(g.missing.map { "\($0.documentID) ×\($0.quantity)" }.joined(separator: ", "))"
  case .scan(let s): "  \(s.documentID) → \(s.documentCode) sha256 \(s.sha256.prefix(16))…"
  case .result(let r): "  seal \(r.sealID), \(r.documents.count) document(s)"
  case .delivery(let d):
    switch d.outcome {
    case .delivered(let p): "  to \(p.recipientName) (\(p.identityNumberMasked))"
    case .failureReason(let reason): "  \(reason)"
    case nil: ""
    }
  case .damage(let d): "  new seal \(d.newSealID)"
  case .correction(let c): "  voids event \(c.voidedSequence): \(c.reason)"
  case .personalDataCorrection(let c):
    "  corrected \(c.fields.joined(separator: ", ")): \(c.reason)"
  case .handoffQueued(let h):
    "  handoff \(h.handoffID) queued to \(h.agencyCode) (\(wireName(h.mode)))"
  case .agencyDecision(let d):
    d.dossierCode.isEmpty
      ? "  handoff \(d.handoffID) rejected: \(d.reason)"
      : "  dossier \(d.dossierCode), filed \(vietnamTime(timestamp(d.receivedAt)))"
        + (d.appointmentDate.isEmpty ? "" : ", appointment \(d.appointmentDate)")
  case .supplement(let r):
    r.items.isEmpty
      ? "  missing: \(r.missingItems.joined(separator: ", ")) — \(r.reason)"
      : "  missing: \(r.items.map { "\($0.document) (\($0.reason))" }.joined(separator: ", "))"
        + (r.reason.isEmpty ? "" : " — \(r.reason)")
  case .appointment(let a): "  appointment \(a.date)"
  case .resultNotice(let n): "  \(n.documents.count) result document(s), collect at \(n.collectAt)"
  case .processingExtension(let e):
    "  due date moved from \(e.previousDueDate) to \(e.newDueDate): \(e.reason)"
  case nil: ""
  }
}
