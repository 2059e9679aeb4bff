import Proto
import SwiftProtobuf
import Tracking

/// The citizens' pages as HTML: no script, no third-party resource, one stylesheet of our own.
/// Every control is a native one with a label, so the pages work with a keyboard alone and a
/// screen reader; the layout fits a 360-pixel phone. The code never goes into a link: every
/// action that needs it is a form posted with it.
struct CitizenPages: Sendable {
  let text: WebText

  /// The tracking form, with an error summary when the last attempt failed.
  func form(number: String = "", error: PageError? = nil) -> String {
    let t = self.text
    var body = "<h1>\(t.formTitle.html)</h1>\n<p>\(t.formIntro.html)</p>\n"
    if let error { body += self.errorSummary(error) }
    let numberInvalid = error?.field == "tracking_number"
    let codeInvalid = error?.field == "verification_code" || error?.field == nil && error != nil
    body += """
      <form method="post" action="/tra-cuu" class="card">
      <input type="hidden" name="lang" value="\(t.code)">
      <div class="field">
      <label for="tracking_number">\(t.trackingNumber.html)</label>
      <p class="hint" id="tracking_number-hint">\(t.trackingNumberHint.html)</p>
      <input id="tracking_number" name="tracking_number" value="\(number.html)" required
       maxlength="20" autocomplete="off" autocapitalize="characters" spellcheck="false"
       aria-describedby="tracking_number-hint\(numberInvalid ? " error-message" : "")"\(numberInvalid ? " aria-invalid=\"true\"" : "")>
      </div>
      <div class="field">
      <label for="verification_code">\(t.verificationCode.html)</label>
      <p class="hint" id="verification_code-hint">\(t.verificationCodeHint.html)</p>
      <input id="verification_code" name="verification_code" required maxlength="20"
       autocomplete="off" autocapitalize="characters" spellcheck="false"
       aria-describedby="verification_code-hint\(codeInvalid ? " error-message" : "")"\(codeInvalid ? " aria-invalid=\"true\"" : "")>
      </div>
      <button type="submit">\(t.track.html)</button>
      </form>
      <p class="note">\(t.privacyNote.html)</p>

      """
    let switchLanguage =
      "<a href=\"/?lang=\(t.otherLanguage.rawValue)\" lang=\"\(t.otherLanguage.rawValue)\" hreflang=\"\(t.otherLanguage.rawValue)\">\(t.otherLanguageName.html)</a>"
    return self.page(title: t.formTitle, languageSwitch: switchLanguage, body: body)
  }

  /// The tracking result.
  /// - Parameters:
  ///   - shipment: The citizen's view, as `TrackShipment` answers it.
  ///   - code: The code the citizen typed, carried in the page's forms (never in a link).
  ///   - channels: The notification channels the citizen may choose.
  ///   - notice: A line confirming what the citizen just did.
  func result(
    _ shipment: Postalgateway_V1_TrackedShipment,
    code: String,
    channels: [NotificationChannel],
    rating: RatingState = .notYet,
    notice: String? = nil,
    error: PageError? = nil
  ) -> String {
    let t = self.text
    let number = shipment.trackingNumber
    let hidden = """
      <input type="hidden" name="tracking_number" value="\(number.html)">
      <input type="hidden" name="verification_code" value="\(code.html)">
      """
    var body = "<h1>\(t.dossier(number).html)</h1>\n"
    if let notice {
      body += "<p class=\"notice\" role=\"status\">\(notice.html)</p>\n"
    }
    if let error { body += self.errorSummary(error) }
    body += """
      <section class="card status" aria-labelledby="status-title">
      <h2 id="status-title">\(t.currentStatus.html)</h2>
      <p class="state">\(shipment.statusText.html)</p>

      """
    for note in shipment.notes { body += "<p>\(note.html)</p>\n" }
    body += "</section>\n"

    body += "<section class=\"card\" aria-labelledby=\"details-title\">\n"
    body += "<h2 id=\"details-title\">\(t.details.html)</h2>\n<dl>\n"
    func row(_ term: String, _ value: String) {
      guard !value.isEmpty else { return }
      body += "<dt>\(term.html)</dt><dd>\(value.html)</dd>\n"
    }
    row(t.applicant, shipment.applicantNameMasked)
    row(t.phone, shipment.phoneMasked)
    row(t.procedure, shipment.procedureCode)
    row(t.agency, shipment.destinationAgencyCode)
    if let date = try? CivilDate(iso: shipment.appointmentDate) {
      row(t.appointment, CitizenWording(t.language).date(date))
    }
    if shipment.hasAgencyDeadline, let due = try? CivilDate(iso: shipment.agencyDeadline.dueDate) {
      var value =
        "\(CitizenWording(t.language).date(due)) (\(t.workingDays(shipment.agencyDeadline.workingDays)))"
      if shipment.agencyDeadline.provisional { value += ", \(t.provisional)" }
      row(t.legalDueDate, value)
    }
    body += "</dl>\n</section>\n"

    if !shipment.supplementItems.isEmpty {
      body += "<section class=\"card\" aria-labelledby=\"supplement-title\">\n"
      body += "<h2 id=\"supplement-title\">\(t.supplementTitle.html)</h2>\n<ul>\n"
      for item in shipment.supplementItems {
        body +=
          "<li>\(item.document.html)\(item.reason.isEmpty ? "" : " — \(item.reason.html)")</li>\n"
      }
      body += "</ul>\n</section>\n"
    }
    if !shipment.refusalReason.isEmpty {
      body += """
        <section class="card" aria-labelledby="refusal-title">
        <h2 id="refusal-title">\(t.refusalTitle.html)</h2>
        <p>\(shipment.refusalReason.html)</p>
        </section>

        """
    }
    if let collect = self.collect(shipment) {
      body += """
        <section class="card" aria-labelledby="collect-title">
        <h2 id="collect-title">\(t.collectTitle.html)</h2>
        <p>\(collect.html)</p>
        </section>

        """
    }
    if !shipment.hopLines.isEmpty {
      body += "<section class=\"card\" aria-labelledby=\"legs-title\">\n"
      body += "<h2 id=\"legs-title\">\(t.legsTitle.html)</h2>\n<ul>\n"
      for line in shipment.hopLines { body += "<li>\(line.html)</li>\n" }
      body += "</ul>\n</section>\n"
    }

    body += "<section class=\"card\" aria-labelledby=\"history-title\">\n"
    body += "<h2 id=\"history-title\">\(t.historyTitle.html)</h2>\n"
    if shipment.timeline.isEmpty {
      body += "<p>\(t.noHistory.html)</p>\n"
    } else {
      body += "<ol class=\"timeline\">\n"
      for event in shipment.timeline {
        let when = Self.vietnamTime(event.occurredAt)
        body += """
          <li><time datetime="\(Self.isoTime(event.occurredAt))">\(when)</time>
          <span class="event">\(event.text.html)</span>
          <span class="place">\(t.atPlace.html) \(event.location.html)</span></li>

          """
      }
      body += "</ol>\n"
    }
    body += "</section>\n"

    body += """
      <section class="card" aria-labelledby="receipt-title">
      <h2 id="receipt-title">\(t.receiptTitle.html)</h2>
      <p>\(t.receiptIntro.html)</p>
      <form method="post" action="/bien-nhan">
      \(hidden)
      <button type="submit">\(t.downloadReceipt.html)</button>
      </form>
      <p><a href="/xac-minh?lang=\(t.code)">\(t.howToVerify.html)</a></p>
      </section>

      """

    body += """
      <section class="card" aria-labelledby="notify-title">
      <h2 id="notify-title">\(t.notificationsTitle.html)</h2>
      <p>\(t.notificationsIntro.html)</p>
      <form method="post" action="/thong-bao">
      \(hidden)
      <input type="hidden" name="lang" value="\(t.code)">
      <fieldset>
      <legend>\(t.notificationsTitle.html)</legend>

      """
    let current = (try? NotificationChannel(shipment.notificationChannel)) ?? .none
    for channel in channels {
      let id = "channel-\(channel.rawValue.lowercased())"
      body += """
        <div class="choice"><input type="radio" id="\(id)" name="channel" value="\(channel.rawValue)"\(channel == current ? " checked" : "")>
        <label for="\(id)">\(t.channel(channel).html)</label></div>

        """
    }
    body += """
      </fieldset>
      <p class="note">\(t.consent.html)</p>
      <button type="submit">\(t.save.html)</button>
      </form>
      </section>
      \(self.ratingSection(rating, hidden: hidden))
      <p><a href="/?lang=\(t.code)">\(t.anotherDossier.html)</a></p>

      """
    let switchLanguage = """
      <form method="post" action="/tra-cuu" class="inline">
      \(hidden)
      <input type="hidden" name="lang" value="\(t.otherLanguage.rawValue)">
      <button type="submit" class="link" lang="\(t.otherLanguage.rawValue)">\(t.otherLanguageName.html)</button>
      </form>
      """
    return self.page(title: t.dossier(number), languageSwitch: switchLanguage, body: body)
  }

  /// How to check a receipt offline, with the log's public key.
  func verification(verifierKey: String) -> String {
    let t = self.text
    var body = "<h1>\(t.verifyTitle.html)</h1>\n<ol>\n"
    for step in t.verifySteps { body += "<li>\(step.html)</li>\n" }
    body += """
      </ol>
      <section class="card" aria-labelledby="key-title">
      <h2 id="key-title">\(t.logKey.html)</h2>
      <p><code class="key">\(verifierKey.html)</code></p>
      </section>
      <p>\(t.verifyTools.html)</p>
      <pre><code>postal-gateway verify receipt receipt.json --key "\(verifierKey.html)"
      python3 verify_receipt.py receipt.json "\(verifierKey.html)"</code></pre>
      <p><a href="/?lang=\(t.code)">\(t.back.html)</a></p>

      """
    let other = t.otherLanguage.rawValue
    return self.page(
      title: t.verifyTitle,
      languageSwitch:
        "<a href=\"/xac-minh?lang=\(other)\" lang=\"\(other)\" hreflang=\"\(other)\">\(t.otherLanguageName.html)</a>",
      body: body
    )
  }

  /// A page that says only what went wrong (an unknown address, a failure).
  func message(_ message: String) -> String {
    let t = self.text
    return self.page(
      title: t.siteName,
      languageSwitch: "",
      body:
        "<h1>\(t.siteName.html)</h1>\n<p>\(message.html)</p>\n<p><a href=\"/?lang=\(t.code)\">\(t.back.html)</a></p>\n"
    )
  }

  /// Whether the citizen may rate the service now.
  enum RatingState: Equatable, Sendable {
    /// Not delivered (or returned) yet: no form.
    case notYet
    /// Delivered and not rated: the form.
    case open
    /// Rated already.
    case done
  }

  private func ratingSection(_ state: RatingState, hidden: String) -> String {
    let t = self.text
    switch state {
    case .notYet:
      return ""
    case .done:
      return """
        <section class="card" aria-labelledby="rate-title">
        <h2 id="rate-title">\(t.rateTitle.html)</h2>
        <p>\(t.alreadyRated.html)</p>
        </section>
        """
    case .open:
      func marks(_ name: String) -> String {
        (1 ... 5).reversed().map { n in
          """
          <div class="choice"><input type="radio" id="\(name)-\(n)" name="\(name)" value="\(n)"\(n == 5 ? " required" : "")>
          <label for="\(name)-\(n)">\(t.mark(n).html)</label></div>
          """
        }.joined(separator: "\n")
      }
      return """
        <section class="card" aria-labelledby="rate-title">
        <h2 id="rate-title">\(t.rateTitle.html)</h2>
        <p>\(t.rateIntro.html)</p>
        <form method="post" action="/danh-gia">
        \(hidden)
        <input type="hidden" name="lang" value="\(t.code)">
        <fieldset><legend>\(t.overall.html)</legend>
        \(marks("overall"))
        </fieldset>
        <fieldset><legend>\(t.staffAttitude.html)</legend>
        \(marks("staff_attitude"))
        </fieldset>
        <div class="choice"><input type="checkbox" id="on_time" name="on_time" value="1">
        <label for="on_time">\(t.onTime.html)</label></div>
        <div class="field"><label for="trips">\(t.trips.html)</label>
        <input id="trips" name="trips" type="number" min="0" max="20" value="1" inputmode="numeric"></div>
        <div class="choice"><input type="checkbox" id="extra_costs" name="extra_costs" value="1">
        <label for="extra_costs">\(t.extraCosts.html)</label></div>
        <div class="field"><label for="comment">\(t.comment.html)</label>
        <textarea id="comment" name="comment" maxlength="1000" rows="3"></textarea></div>
        <div class="choice"><input type="checkbox" id="complaint" name="complaint" value="1">
        <label for="complaint">\(t.complaint.html)</label></div>
        <button type="submit">\(t.sendRating.html)</button>
        </form>
        </section>
        """
    }
  }

  /// Where and when to collect the result, when the state calls for it.
  private func collect(_ shipment: Postalgateway_V1_TrackedShipment) -> String? {
    switch shipment.state {
    case .attemptFailed, .returnAttemptFailed:
      return self.text.collectAtPostOffice(shipment.timeline.last?.location ?? "")
    case .returnedToAgency:
      return self.text.collectAtAgency(shipment.destinationAgencyCode)
    case .resultReady, .resultCollected, .outForDelivery:
      return self.text.deliveredToAddress
    default:
      return nil
    }
  }

  private func errorSummary(_ error: PageError) -> String {
    """
    <div class="error" role="alert" tabindex="-1" id="error-summary">
    <h2>\(self.text.errorSummary.html)</h2>
    <p id="error-message">\(error.message.html)</p>
    </div>

    """
  }

  private func page(title: String, languageSwitch: String, body: String) -> String {
    let t = self.text
    return """
      <!doctype html>
      <html lang="\(t.code)">
      <head>
      <meta charset="utf-8">
      <meta name="viewport" content="width=device-width, initial-scale=1">
      <meta name="referrer" content="no-referrer">
      <title>\(title.html) — \(t.siteName.html)</title>
      <link rel="stylesheet" href="/static/site.css">
      </head>
      <body>
      <a class="skip" href="#main">\(t.skipToContent.html)</a>
      <header>
      <p class="brand">\(t.siteName.html)</p>
      <nav aria-label="\(t.languageNavigation.html)">\(languageSwitch)</nav>
      </header>
      <main id="main" tabindex="-1">
      \(body)</main>
      </body>
      </html>

      """
  }

  /// `dd/MM/yyyy HH:mm`, Vietnam time.
  static func vietnamTime(_ time: Google_Protobuf_Timestamp) -> String {
    let local = time.seconds + 7 * 3600
    let days = local >= 0 ? local / 86_400 : (local - 86_399) / 86_400
    let minute = Int((local - days * 86_400) / 60)
    let date = CitizenWording(.vietnamese).date(CivilDate(daysSinceEpoch: days))
    func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
    return "\(date) \(two(minute / 60)):\(two(minute % 60))"
  }

  /// ISO 8601 with the Vietnam offset, for `<time datetime>`.
  static func isoTime(_ time: Google_Protobuf_Timestamp) -> String {
    let local = time.seconds + 7 * 3600
    let days = local >= 0 ? local / 86_400 : (local - 86_399) / 86_400
    let second = Int(local - days * 86_400)
    func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
    return
      "\(CivilDate(daysSinceEpoch: days))T\(two(second / 3600)):\(two(second / 60 % 60)):\(two(second % 60))+07:00"
  }
}

/// What went wrong with a citizen's request, for a page: the message, and the field it is
/// about when there is one.
struct PageError: Equatable, Sendable {
  var message: String
  var field: String?
}

extension String {
  /// Escaped for HTML text and attribute values.
  var html: String {
    var escaped = ""
    escaped.reserveCapacity(self.utf8.count)
    for character in self {
      switch character {
      case "&": escaped += "&amp;"
      case "<": escaped += "&lt;"
      case ">": escaped += "&gt;"
      case "\"": escaped += "&quot;"
      case "'": escaped += "&#39;"
      default: escaped.append(character)
      }
    }
    return escaped
  }
}
