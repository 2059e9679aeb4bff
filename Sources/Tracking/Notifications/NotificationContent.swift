/// What a message says, made from the shipment's stored event when it is sent (so the outbox
/// holds no personal data, and every attempt says the same).
///
/// No more personal data than needed: the tracking number, what happened and when, dates, the
/// papers an agency asks for, and a link to the tracking page (never the verification code).
/// No name, no phone number, no address.
public struct NotificationContent: Hashable, Sendable {
  /// Why.
  public var kind: NotificationKind
  /// The shipment.
  public var trackingNumber: TrackingNumber
  /// The event it tells about.
  public var eventSequence: Int
  /// The state after the event.
  public var state: ShipmentState
  /// When it happened.
  public var occurredAt: Timestamp
  /// Where it happened (post office code).
  public var location: PostOfficeCode
  /// The procedure.
  public var procedure: ProcedureCode
  /// The competent agency.
  public var agency: AgencyCode
  /// For ``NotificationKind/filed``: the result appointment, when the agency gave one.
  public var appointmentDate: CivilDate?
  /// For ``NotificationKind/supplementRequested``: what the agency asks for.
  public var supplementItems: [SupplementItem]
  /// The public tracking page.
  public var trackingPage: String

  /// The content of a message about an event of a shipment.
  /// - Parameters:
  ///   - kind: Why.
  ///   - sequence: The event.
  ///   - shipment: The shipment with its history.
  ///   - trackingPage: The public tracking page's address.
  /// - Returns: `nil` when the shipment has no such event.
  public init?(
    _ kind: NotificationKind,
    sequence: Int,
    of shipment: Shipment,
    trackingPage: String
  ) {
    guard let event = shipment.events.first(where: { $0.sequence == sequence }) else {
      return nil
    }
    self.kind = kind
    self.trackingNumber = shipment.trackingNumber
    self.eventSequence = sequence
    self.state = event.toState
    self.occurredAt = event.occurredAt
    self.location = event.location
    self.procedure = shipment.procedure
    self.agency = shipment.destinationAgency
    self.trackingPage = trackingPage
    self.supplementItems = []
    switch event.details {
    case .agencyDecision(let decision):
      if case .accepted(let acceptance) = decision.outcome {
        self.appointmentDate = acceptance.appointmentDate
      }
    case .appointment(let date):
      self.appointmentDate = date
    case .supplement(let request):
      self.supplementItems = request.items
    default:
      break
    }
  }

  /// The SMS text: Vietnamese without diacritics (GSM 7-bit, as brand-name SMS are sent),
  /// at most 3 segments of 153 characters.
  public var smsText: String {
    let wording = CitizenWording(.vietnamese)
    let number = self.trackingNumber.rawValue
    let day = wording.date(self.occurredAt.dateInVietnam)
    let text: String
    switch self.kind {
    case .received:
      text = "VNPost: Buu dien da nhan ho so \(number) ngay \(day)."
    case .filed:
      let appointment = self.appointmentDate.map { ", hen tra ket qua ngay \(wording.date($0))" }
      text =
        "VNPost: Ho so \(number) da nop tai co quan giai quyet ngay \(day)\(appointment ?? "")."
    case .supplementRequested:
      let items = self.supplementItems.map(\.document).joined(separator: "; ")
      text =
        "VNPost: Co quan giai quyet yeu cau bo sung ho so \(number): \(Self.clip(Self.ascii(items), 200))."
    case .resultReady:
      text = "VNPost: Da co ket qua ho so \(number); buu dien se nhan va chuyen den ban."
    case .deliveryAttempt:
      text =
        "VNPost: Phat ket qua ho so \(number) ngay \(day) khong thanh cong. Moi ban nhan tai buu cuc \(self.location.rawValue) hoac cho lan phat sau."
    case .returned:
      text =
        "VNPost: Ket qua ho so \(number) da chuyen tra co quan giai quyet sau cac lan moi nhan. Vui long lien he co quan de nhan."
    }
    return Self.clip(Self.ascii(text) + " Tra cuu: \(self.trackingPage)", 459)
  }

  /// The parameters of a Zalo ZNS template: `ma_ho_so`, `trang_thai`, `ngay`, and where they
  /// apply `ngay_hen`, `giay_to`, `buu_cuc`; `link` always.
  public var znsParameters: [String: String] {
    let wording = CitizenWording(.vietnamese)
    var parameters = [
      "ma_ho_so": self.trackingNumber.rawValue,
      "trang_thai": wording.state(self.state),
      "ngay": wording.date(self.occurredAt.dateInVietnam),
      "link": self.trackingPage,
    ]
    if let date = self.appointmentDate { parameters["ngay_hen"] = wording.date(date) }
    if !self.supplementItems.isEmpty {
      // ZNS limits a parameter's length.
      parameters["giay_to"] = Self.clip(
        self.supplementItems.map(\.document).joined(separator: "; "),
        200
      )
    }
    if self.kind == .deliveryAttempt { parameters["buu_cuc"] = self.location.rawValue }
    return parameters
  }

  /// The webhook event type, e.g. `dossier.filed`.
  public var webhookType: String {
    switch self.kind {
    case .received: "dossier.received"
    case .filed: "dossier.filed"
    case .supplementRequested: "dossier.supplement_requested"
    case .resultReady: "dossier.result_ready"
    case .deliveryAttempt: "dossier.delivery_attempt_failed"
    case .returned: "dossier.returned"
    }
  }

  /// Text cut to at most `limit` characters (an ellipsis marks the cut).
  static func clip(_ text: String, _ limit: Int) -> String {
    text.count <= limit ? text : String(text.prefix(limit - 3)) + "..."
  }

  /// Vietnamese without diacritics: `Bưu điện` → `Buu dien`; anything else outside ASCII is
  /// dropped.
  public static func ascii(_ text: String) -> String {
    var result = ""
    result.reserveCapacity(text.utf8.count)
    for scalar in text.unicodeScalars {
      if scalar.isASCII {
        result.unicodeScalars.append(scalar)
      } else if let base = Self.bases[scalar] {
        result.unicodeScalars.append(base)
      } else if (0x300 ... 0x36F).contains(scalar.value) {
        continue  // a combining mark of a decomposed letter
      } else if scalar.properties.isWhitespace {
        result.append(" ")
      }
    }
    return result
  }

  private static let bases: [Unicode.Scalar: Unicode.Scalar] = {
    let groups: [(Character, String)] = [
      ("a", "àáảãạăằắẳẵặâầấẩẫậ"), ("e", "èéẻẽẹêềếểễệ"), ("i", "ìíỉĩị"),
      ("o", "òóỏõọôồốổỗộơờớởỡợ"), ("u", "ùúủũụưừứửữự"), ("y", "ỳýỷỹỵ"), ("d", "đ"),
      ("A", "ÀÁẢÃẠĂẰẮẲẴẶÂẦẤẨẪẬ"), ("E", "ÈÉẺẼẸÊỀẾỂỄỆ"), ("I", "ÌÍỈĨỊ"),
      ("O", "ÒÓỎÕỌÔỒỐỔỖỘƠỜỚỞỠỢ"), ("U", "ÙÚỦŨỤƯỪỨỬỮỰ"), ("Y", "ỲÝỶỸỴ"), ("D", "Đ"),
    ]
    var table: [Unicode.Scalar: Unicode.Scalar] = [:]
    for (base, letters) in groups {
      // Each group's base is one ASCII letter, each letter one precomposed scalar.
      let ascii = base.unicodeScalars.first!
      for letter in letters.unicodeScalars { table[letter] = ascii }
    }
    return table
  }()
}
