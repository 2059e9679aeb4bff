import Tracking

/// The words of the citizens' web page, in Vietnamese (the default) or English. What the
/// service says about a shipment (its state, events, legs) comes from ``CitizenWording`` through
/// the tracking view; this is the page around it.
struct WebText: Sendable {
  let language: CitizenLanguage

  private var vi: Bool { self.language == .vietnamese }

  var code: String { self.language.rawValue }
  var otherLanguage: CitizenLanguage { self.vi ? .english : .vietnamese }
  /// The name of the other language, in itself.
  var otherLanguageName: String { self.vi ? "English" : "Tiếng Việt" }

  var siteName: String { self.vi ? "Bưu điện — Dịch vụ công" : "Post office — Public services" }
  var skipToContent: String { self.vi ? "Bỏ qua, đến nội dung chính" : "Skip to main content" }
  var languageNavigation: String { self.vi ? "Ngôn ngữ" : "Language" }
  var formTitle: String {
    self.vi ? "Tra cứu hồ sơ gửi qua bưu điện" : "Track a dossier sent by post"
  }
  var formIntro: String {
    self.vi
      ? "Nhập số hiệu bưu gửi và mã tra cứu in trên phiếu gửi bưu điện đã giao cho bạn."
      : "Enter the tracking number and the verification code printed on the slip the post office gave you."
  }
  var trackingNumber: String { self.vi ? "Số hiệu bưu gửi" : "Tracking number" }
  var trackingNumberHint: String {
    self.vi ? "13 ký tự, ví dụ EA000000005VN" : "13 characters, for example EA000000005VN"
  }
  var verificationCode: String { self.vi ? "Mã tra cứu" : "Verification code" }
  var verificationCodeHint: String {
    self.vi
      ? "Ví dụ TC8Z4-RZ7BQ; không phân biệt chữ hoa, chữ thường"
      : "For example TC8Z4-RZ7BQ; capitals or not, as you like"
  }
  var track: String { self.vi ? "Tra cứu" : "Track" }
  var privacyNote: String {
    self.vi
      ? "Mã tra cứu chỉ được gửi trong nội dung biểu mẫu: không nằm trong địa chỉ trang và không được ghi vào nhật ký."
      : "The code travels only in the form's content: never in the page's address, never in a log."
  }
  var errorSummary: String { self.vi ? "Chưa tra cứu được" : "We could not look it up" }
  var notFound: String {
    self.vi
      ? "Không tìm thấy hồ sơ với số hiệu và mã tra cứu này. Vui lòng kiểm tra lại hai thông tin trên phiếu gửi."
      : "No dossier matches this tracking number and code. Please check both against your slip."
  }
  func throttled(minutes: Int) -> String {
    self.vi
      ? "Số hiệu này đã bị nhập sai mã quá nhiều lần. Để bảo vệ hồ sơ của bạn, vui lòng thử lại sau khoảng \(minutes) phút."
      : "Too many wrong codes were entered for this number. To protect your dossier, please try again in about \(minutes) minutes."
  }
  var unavailable: String {
    self.vi
      ? "Hệ thống đang tạm thời gián đoạn. Vui lòng thử lại sau ít phút."
      : "The service is briefly unavailable. Please try again in a few minutes."
  }
  var erased: String {
    self.vi
      ? "Thông tin cá nhân của hồ sơ này đã được xóa theo quy định; không còn số điện thoại để gửi thông báo."
      : "This dossier's personal data was erased as the law requires; there is no number left to send to."
  }
  func invalid(_ field: String) -> String {
    let name =
      switch field {
      case "tracking_number": self.trackingNumber
      case "verification_code": self.verificationCode
      case "channel": self.notificationsTitle
      case "language": self.languageNavigation
      case "overall": self.overall
      case "staff_attitude": self.staffAttitude
      case "trips": self.trips
      case "comment": self.comment
      default: field
      }
    return self.vi ? "\(name) không hợp lệ." : "The \(name.lowercased()) is not valid."
  }
  var requestTooLarge: String {
    self.vi ? "Yêu cầu quá lớn." : "The request is too large."
  }

  func dossier(_ number: String) -> String { self.vi ? "Hồ sơ \(number)" : "Dossier \(number)" }
  var currentStatus: String { self.vi ? "Trạng thái hiện tại" : "Current status" }
  var details: String { self.vi ? "Thông tin hồ sơ" : "About the dossier" }
  var applicant: String { self.vi ? "Người nộp" : "Applicant" }
  var phone: String { self.vi ? "Điện thoại" : "Phone" }
  var procedure: String { self.vi ? "Mã thủ tục" : "Procedure code" }
  var agency: String { self.vi ? "Cơ quan giải quyết" : "Competent agency" }
  var appointment: String { self.vi ? "Ngày hẹn trả kết quả" : "Result appointment" }
  var legalDueDate: String {
    self.vi ? "Hạn giải quyết theo quy định" : "Due date under the law"
  }
  func workingDays(_ n: Int32) -> String {
    self.vi ? "\(n) ngày làm việc" : "\(n) working days"
  }
  var provisional: String {
    self.vi
      ? "dự kiến: lịch nghỉ năm sau chưa công bố"
      : "provisional: next year's holidays not published yet"
  }
  var supplementTitle: String {
    self.vi ? "Cơ quan yêu cầu bổ sung" : "The agency asks for"
  }
  var refusalTitle: String { self.vi ? "Lý do từ chối" : "Reasons for refusal" }
  var collectTitle: String { self.vi ? "Nhận kết quả" : "Collecting the result" }
  func collectAtPostOffice(_ office: String) -> String {
    self.vi
      ? "Bưu điện đã mời bạn nhận kết quả tại bưu cục \(office), trong giờ làm việc. Mang theo phiếu gửi và giấy tờ tùy thân."
      : "The post invites you to collect the result at post office \(office), in office hours. Bring your slip and an identity paper."
  }
  func collectAtAgency(_ agency: String) -> String {
    self.vi
      ? "Kết quả đã được chuyển trả cơ quan giải quyết (\(agency)). Vui lòng liên hệ cơ quan để nhận."
      : "The result went back to the competent agency (\(agency)). Please ask the agency for it."
  }
  var deliveredToAddress: String {
    self.vi
      ? "Bưu điện sẽ phát kết quả đến địa chỉ bạn đã đăng ký."
      : "The post will deliver the result to the address you gave."
  }
  var legsTitle: String { self.vi ? "Thời hạn từng chặng" : "Time limits, leg by leg" }
  var historyTitle: String { self.vi ? "Hành trình hồ sơ" : "The dossier's path" }
  var noHistory: String { self.vi ? "Chưa có sự kiện." : "Nothing yet." }
  var atPlace: String { self.vi ? "tại" : "at" }
  var receiptTitle: String { self.vi ? "Biên nhận điện tử" : "Electronic receipt" }
  var receiptIntro: String {
    self.vi
      ? "Biên nhận chứng minh, không cần mạng, rằng từng bước bàn giao hồ sơ của bạn đã được ghi vào nhật ký không thể sửa của bưu điện."
      : "The receipt proves, offline, that each handover of your dossier is written in the post's tamper-evident log."
  }
  var downloadReceipt: String { self.vi ? "Tải biên nhận (JSON)" : "Download the receipt (JSON)" }
  var howToVerify: String { self.vi ? "Cách kiểm tra biên nhận" : "How to check the receipt" }
  var notificationsTitle: String { self.vi ? "Nhận thông báo" : "Notifications" }
  var notificationsIntro: String {
    self.vi
      ? "Bưu điện báo khi nhận hồ sơ, nộp cho cơ quan (kèm ngày hẹn), khi cơ quan yêu cầu bổ sung, khi có kết quả, khi phát không thành công và khi kết quả được chuyển trả. Tin nhắn chỉ có số hiệu và đường dẫn đến trang này."
      : "The post tells you when it receives the dossier, files it (with the appointment), when the agency asks for more, when the result is ready, when a delivery fails and when the result goes back. Messages carry only the tracking number and a link to this page."
  }
  var consent: String {
    self.vi
      ? "Tôi đồng ý nhận thông báo về hồ sơ này qua kênh đã chọn và có thể đổi hoặc rút lại bất cứ lúc nào (Nghị định 13/2023/NĐ-CP)."
      : "I agree to be told about this dossier on the channel chosen, and may change or withdraw this at any time (Decree 13/2023/NĐ-CP)."
  }
  func channel(_ channel: NotificationChannel) -> String {
    switch channel {
    case .sms: self.vi ? "Tin nhắn SMS" : "SMS"
    case .zalo: self.vi ? "Zalo" : "Zalo"
    case .none: self.vi ? "Không nhận thông báo" : "No messages"
    }
  }
  var save: String { self.vi ? "Lưu lựa chọn" : "Save my choice" }
  func saved(_ channel: NotificationChannel) -> String {
    channel == .none
      ? (self.vi ? "Đã lưu: bạn sẽ không nhận thông báo." : "Saved: you will get no messages.")
      : (self.vi
        ? "Đã lưu: thông báo sẽ được gửi qua \(self.channel(channel))."
        : "Saved: messages will come by \(self.channel(channel)).")
  }
  var rateTitle: String { self.vi ? "Đánh giá dịch vụ" : "Rate the service" }
  var rateIntro: String {
    self.vi
      ? "Ý kiến của bạn giúp cải thiện dịch vụ (Nghị định 61/2018/NĐ-CP, Điều 31). Mỗi hồ sơ được đánh giá một lần."
      : "Your opinion helps improve the service (Decree 61/2018/NĐ-CP, art. 31). Each dossier is rated once."
  }
  var overall: String { self.vi ? "Mức độ hài lòng chung" : "Overall satisfaction" }
  var staffAttitude: String { self.vi ? "Thái độ của nhân viên" : "Staff attitude" }
  func mark(_ n: Int) -> String {
    switch n {
    case 1: self.vi ? "1 — Rất không hài lòng" : "1 — Very dissatisfied"
    case 2: self.vi ? "2 — Không hài lòng" : "2 — Dissatisfied"
    case 3: self.vi ? "3 — Bình thường" : "3 — Neither"
    case 4: self.vi ? "4 — Hài lòng" : "4 — Satisfied"
    default: self.vi ? "5 — Rất hài lòng" : "5 — Very satisfied"
    }
  }
  var onTime: String {
    self.vi ? "Tôi nhận kết quả đúng ngày hẹn" : "I got the result by the appointment date"
  }
  var trips: String {
    self.vi ? "Số lần tôi phải đi lại hoặc chờ" : "Times I had to go or wait in"
  }
  var extraCosts: String {
    self.vi ? "Có người đòi thêm tiền ngoài biên lai" : "Someone asked for money beyond the receipt"
  }
  var comment: String { self.vi ? "Góp ý (không bắt buộc)" : "Comment (optional)" }
  var complaint: String { self.vi ? "Gửi như một khiếu nại" : "File this as a complaint" }
  var sendRating: String { self.vi ? "Gửi đánh giá" : "Send my rating" }
  var rated: String {
    self.vi ? "Cảm ơn bạn đã đánh giá dịch vụ." : "Thank you for rating the service."
  }
  var complaintOpened: String {
    self.vi
      ? "Cảm ơn bạn. Ý kiến của bạn đã được chuyển đến cơ quan giám sát như một khiếu nại."
      : "Thank you. Your opinion went to the oversight office as a complaint."
  }
  var alreadyRated: String {
    self.vi
      ? "Hồ sơ này đã được đánh giá. Cảm ơn bạn." : "This dossier was rated already. Thank you."
  }
  var rateNotYet: String {
    self.vi
      ? "Chỉ đánh giá được sau khi bạn đã nhận kết quả (hoặc giấy tờ được trả lại)."
      : "A dossier can be rated once its result (or its papers) reached you."
  }
  var anotherDossier: String { self.vi ? "Tra cứu hồ sơ khác" : "Track another dossier" }

  var verifyTitle: String {
    self.vi ? "Kiểm tra biên nhận điện tử" : "Checking an electronic receipt"
  }
  var verifySteps: [String] {
    self.vi
      ? [
        "Tải biên nhận từ trang kết quả tra cứu (tệp JSON).",
        "Kiểm tra chữ ký của mốc nhật ký (checkpoint) bằng khóa công khai của nhật ký dưới đây.",
        "Với từng mục, kiểm tra bằng chứng thuộc về cây Merkle (RFC 6962) theo gốc của mốc đã ký.",
        "Mỗi mục mang mã băm SHA-256(muối ‖ số hiệu): trùng với số hiệu của bạn nghĩa là mục đó thuộc hồ sơ của bạn.",
      ]
      : [
        "Download the receipt from the tracking result (a JSON file).",
        "Check the checkpoint's signature with the log's public key below.",
        "For each entry, check its Merkle inclusion proof (RFC 6962) against the signed root.",
        "Each entry carries SHA-256(salt ‖ tracking number): a match with your number means the entry is yours.",
      ]
  }
  var verifyTools: String {
    self.vi
      ? "Công cụ kiểm tra (không cần kết nối đến bưu điện):"
      : "Tools that check it (no connection to the post needed):"
  }
  var logKey: String { self.vi ? "Khóa công khai của nhật ký" : "The log's public key" }
  var back: String { self.vi ? "Quay lại tra cứu" : "Back to tracking" }
  var notFoundPage: String { self.vi ? "Không có trang này." : "There is no such page." }
}
