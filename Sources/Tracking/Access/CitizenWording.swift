/// The words a citizen reads: states, events, legs, verdicts and dates, in Vietnamese by
/// default or in English. Wire enums stay English; these are what a person sees on the screen
/// or on a printed slip.
public enum CitizenLanguage: String, Hashable, Sendable, CaseIterable {
  /// Tiếng Việt (the default).
  case vietnamese = "vi"
  /// English.
  case english = "en"

  /// A language from its code (`vi`, `en`; empty is Vietnamese).
  /// - Throws: ``InvalidValue`` for another code.
  public init(code: String) throws {
    if code.isEmpty {
      self = .vietnamese
      return
    }
    guard let language = Self(rawValue: code.lowercased()) else {
      throw InvalidValue("must be vi or en")
    }
    self = language
  }
}

/// Citizen-facing wording, one table per language.
public struct CitizenWording: Sendable {
  /// The language.
  public let language: CitizenLanguage

  /// Wording in a language.
  public init(_ language: CitizenLanguage) { self.language = language }

  private var vi: Bool { self.language == .vietnamese }

  /// `dd/MM/yyyy`, as dates are written on Vietnamese administrative papers.
  public func date(_ date: CivilDate) -> String {
    func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
    return "\(two(date.day))/\(two(date.month))/\(date.year)"
  }

  /// Where the shipment is.
  public func state(_ state: ShipmentState) -> String {
    switch state {
    case .requested: vi ? "Đã đăng ký dịch vụ, chờ nhận hồ sơ" : "Pickup booked"
    case .incompleteGuided:
      vi ? "Hồ sơ chưa đầy đủ, đã hướng dẫn bổ sung" : "Dossier incomplete, guidance given"
    case .collected: vi ? "Bưu điện đã nhận hồ sơ" : "Dossier received by the post"
    case .digitized: vi ? "Đã số hóa hồ sơ" : "Dossier digitized"
    case .inTransit:
      vi ? "Đang chuyển hồ sơ đến cơ quan giải quyết" : "On its way to the competent agency"
    case .handedToAgency:
      vi ? "Đã nộp hồ sơ tại cơ quan giải quyết" : "Filed with the competent agency"
    case .appointmentReceived:
      vi ? "Đã nhận giấy tiếp nhận và hẹn trả kết quả" : "The agency's appointment slip received"
    case .appointmentNotified:
      vi ? "Đã báo ngày hẹn trả kết quả" : "You were told the appointment date"
    case .awaitingResult: vi ? "Đang chờ kết quả" : "Waiting for the result"
    case .supplementRequested:
      vi ? "Cơ quan yêu cầu bổ sung hồ sơ" : "The agency asks for missing papers"
    case .resultReady: vi ? "Đã có kết quả" : "The result is ready"
    case .resultCollected: vi ? "Bưu điện đã nhận kết quả" : "The post collected the result"
    case .outForDelivery: vi ? "Đang phát kết quả" : "Out for delivery"
    case .attemptFailed:
      vi ? "Phát không thành công, đã để lại giấy mời" : "Delivery failed, an invitation was left"
    case .delivered: vi ? "Đã phát kết quả" : "Delivered"
    case .returnedToAgency:
      vi ? "Đã chuyển trả về cơ quan giải quyết" : "Returned to the agency"
    case .lost: vi ? "Bưu gửi bị thất lạc" : "Lost"
    case .cancelled: vi ? "Đã hủy" : "Cancelled"
    case .rejectedByAgency: vi ? "Cơ quan từ chối hồ sơ" : "The agency refused the dossier"
    case .returnCollected:
      vi ? "Bưu điện đã nhận lại hồ sơ để trả cho người nộp" : "Taken back for return to you"
    case .returnOutForDelivery: vi ? "Đang trả lại hồ sơ" : "Being returned to you"
    case .returnAttemptFailed:
      vi
        ? "Trả hồ sơ không thành công, đã để lại giấy mời" : "Return failed, an invitation was left"
    case .returnedToApplicant: vi ? "Đã trả lại hồ sơ cho người nộp" : "Returned to you"
    }
  }

  /// What happened.
  public func event(_ kind: EventKind) -> String {
    switch kind {
    case .registered: vi ? "Đăng ký dịch vụ" : "Registered"
    case .guidedIncomplete: vi ? "Hướng dẫn bổ sung hồ sơ" : "Guidance on missing papers"
    case .collected: vi ? "Nhận hồ sơ" : "Dossier received"
    case .dispatched: vi ? "Chuyển đi" : "Dispatched"
    case .transitScan: vi ? "Qua bưu cục trung chuyển" : "Through a sorting office"
    case .handedToAgency: vi ? "Bàn giao hồ sơ cho cơ quan giải quyết" : "Handed to the agency"
    case .appointmentReceived: vi ? "Nhận giấy hẹn trả kết quả" : "Appointment slip received"
    case .appointmentNotified: vi ? "Báo ngày hẹn trả kết quả" : "Appointment date notified"
    case .cancelled: vi ? "Hủy" : "Cancelled"
    case .scanned: vi ? "Số hóa giấy tờ" : "Paper digitized"
    case .digitized: vi ? "Số hóa xong hồ sơ" : "Dossier digitized"
    case .resultReady: vi ? "Cơ quan báo đã có kết quả" : "The agency reports the result ready"
    case .resultCollected: vi ? "Nhận kết quả tại cơ quan" : "Result collected at the agency"
    case .outForDelivery: vi ? "Đi phát" : "Out for delivery"
    case .delivered: vi ? "Phát thành công" : "Delivered"
    case .deliveryFailed: vi ? "Phát không thành công" : "Delivery failed"
    case .returnedToAgency: vi ? "Chuyển trả về cơ quan giải quyết" : "Returned to the agency"
    case .damaged:
      vi ? "Bao bì hư hỏng, đã lập biên bản và đóng gói lại" : "Envelope damaged and re-wrapped"
    case .lost: vi ? "Thất lạc" : "Lost"
    case .correction: vi ? "Đính chính" : "Correction"
    case .agencyAccepted: vi ? "Cơ quan tiếp nhận hồ sơ" : "The agency accepted the dossier"
    case .agencyRejected: vi ? "Cơ quan từ chối hồ sơ" : "The agency refused the dossier"
    case .supplementRequested: vi ? "Cơ quan yêu cầu bổ sung hồ sơ" : "Missing papers requested"
    case .supplementDelivered: vi ? "Đã nộp hồ sơ bổ sung" : "Missing papers filed"
    case .processingExtended:
      vi ? "Cơ quan gia hạn giải quyết, kèm thư xin lỗi" : "Processing extended, with an apology"
    case .returnCollected:
      vi ? "Nhận lại hồ sơ bị từ chối để trả cho người nộp" : "Refused dossier taken for return"
    case .verificationCodeReissued: vi ? "Cấp lại mã tra cứu" : "Tracking code reissued"
    case .trackingUnlocked: vi ? "Mở khóa tra cứu" : "Tracking unlocked"
    case .personalDataErased: vi ? "Đã xoá dữ liệu cá nhân" : "Personal data erased"
    case .personalDataCorrected: vi ? "Đã đính chính dữ liệu cá nhân" : "Personal data corrected"
    }
  }

  /// A leg's name.
  public func hop(_ hop: SlaHop) -> String {
    switch hop {
    case .dossierLeg: vi ? "Chuyển hồ sơ đến cơ quan giải quyết" : "Dossier to the agency"
    case .agencyProcessing: vi ? "Cơ quan giải quyết hồ sơ" : "The agency's processing"
    case .resultLeg: vi ? "Chuyển phát kết quả" : "Result to you"
    case .returnLeg: vi ? "Trả lại hồ sơ bị từ chối" : "Refused dossier back to you"
    }
  }

  /// One line per leg: its name, due date and how it went.
  public func hopLine(_ hop: HopTimeliness) -> String {
    let due = self.date(hop.due)
    let status: String
    if hop.lateWithApology {
      status = vi ? "trễ hạn, đã xin lỗi và hẹn lại" : "late, with an apology and a new date"
    } else if let verdict = hop.verdict {
      status =
        switch verdict {
        case .early: vi ? "sớm hạn" : "early"
        case .onTime: vi ? "đúng hạn" : "on time"
        case .late: vi ? "trễ hạn" : "late"
        }
    } else if hop.stoppedBy != nil {
      status = vi ? "tạm dừng" : "paused"
    } else {
      status = vi ? "đang thực hiện" : "in progress"
    }
    return "\(self.hop(hop.hop)): " + (vi ? "hạn \(due), \(status)" : "due \(due), \(status)")
  }

  /// The agency's legal due date, and the appointment when it differs.
  public func deadline(legal: CivilDate, appointment: CivilDate?) -> String {
    var text =
      vi
      ? "Hạn giải quyết theo quy định: \(self.date(legal))"
      : "Due by law: \(self.date(legal))"
    if let appointment, appointment != legal {
      text +=
        vi
        ? "; ngày hẹn trả kết quả: \(self.date(appointment))"
        : "; appointment: \(self.date(appointment))"
    }
    return text
  }

  /// The agency's refusal, with its reasons as the agency wrote them.
  public func refusal(_ reason: String) -> String {
    vi
      ? "Cơ quan giải quyết từ chối hồ sơ. Lý do: \(reason). Hồ sơ gốc và văn bản từ chối được trả lại cho người nộp."
      : "The agency refused the dossier. Reason: \(reason). The originals and the refusal notice come back to you."
  }
}
