import Foundation
import Tracking

/// Renders an ``IndicatorChart`` as a standalone SVG line chart: one line per group, a point per
/// measured bucket (with its value in `data-value` and a tooltip), the plan's target as a dashed
/// line, axes, and a legend. No scripts, no external resources; text in Vietnamese.
struct SvgChart {
  let chart: IndicatorChart

  private let width = 860.0
  private let height = 440.0
  private let left = 64.0
  private let right = 180.0
  private let top = 56.0
  private let bottom = 64.0
  private static let palette = [
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2",
  ]

  /// The chart's title.
  var title: String {
    let name =
      switch self.chart.indicator {
      case .onTime: "Tỷ lệ đúng hạn"
      case .digitized: "Tỷ lệ hồ sơ được số hóa"
      case .electronic: "Tỷ lệ chuyển giao điện tử"
      case .satisfaction: "Tỷ lệ hài lòng"
      case .reused: "Tỷ lệ giấy tờ được tái sử dụng"
      case .wait: "Thời gian chờ trung bình tại quầy"
      }
    guard let first = self.chart.buckets.first, let last = self.chart.buckets.last else {
      return name
    }
    return "\(name), \(Self.date(first.lowerBound)) – \(Self.date(last.upperBound))"
  }

  /// The SVG document.
  func render() -> String {
    let plotWidth = self.width - self.left - self.right
    let plotHeight = self.height - self.top - self.bottom
    let maximum = self.scaleMaximum()
    let count = max(1, self.chart.buckets.count)
    func x(_ index: Int) -> Double {
      count == 1
        ? self.left + plotWidth / 2 : self.left + plotWidth * Double(index) / Double(count - 1)
    }
    func y(_ value: Double) -> Double {
      self.top + plotHeight * (1 - min(value, maximum) / maximum)
    }

    var out = """
      <?xml version="1.0" encoding="UTF-8"?>
      <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(self.width))" height="\(Int(self.height))" \
      viewBox="0 0 \(Int(self.width)) \(Int(self.height))" role="img" aria-labelledby="chart-title" \
      font-family="sans-serif" font-size="12">
      <title id="chart-title">\(Self.escape(self.title))</title>
      <rect width="100%" height="100%" fill="#ffffff"/>
      <text x="\(Int(self.left))" y="28" font-size="16" font-weight="bold">\(Self.escape(self.title))</text>

      """
    // Axes and horizontal grid: five steps.
    for step in 0 ... 5 {
      let value = maximum * Double(step) / 5
      let lineY = Self.number(y(value))
      out += """
        <line x1="\(Self.number(self.left))" y1="\(lineY)" x2="\(Self.number(self.left + plotWidth))" \
        y2="\(lineY)" stroke="#dddddd"/>
        <text x="\(Self.number(self.left - 8))" y="\(lineY)" text-anchor="end" dominant-baseline="middle">\
        \(Self.number(value))\(self.chart.indicator.unit == "%" ? "%" : "")</text>

        """
    }
    let labelEvery = max(1, Int((Double(count) / 12).rounded(.up)))
    for (index, bucket) in self.chart.buckets.enumerated() where index % labelEvery == 0 {
      out += """
        <text x="\(Self.number(x(index)))" y="\(Self.number(self.top + plotHeight + 20))" \
        text-anchor="middle">\(Self.date(bucket.lowerBound))</text>

        """
    }
    if self.chart.indicator == .wait {
      out += """
        <text x="16" y="\(Self.number(self.top + plotHeight / 2))" transform="rotate(-90 16 \
        \(Self.number(self.top + plotHeight / 2)))" text-anchor="middle">phút</text>

        """
    }
    if let target = self.chart.indicator.target {
      let targetY = Self.number(y(target))
      out += """
        <g class="target" data-value="\(Self.number(target))">
        <line x1="\(Self.number(self.left))" y1="\(targetY)" x2="\(Self.number(self.left + plotWidth))" \
        y2="\(targetY)" stroke="#555555" stroke-dasharray="6 4"/>
        <text x="\(Self.number(self.left + plotWidth - 4))" y="\(Self.number(y(target) - 6))" \
        text-anchor="end">Mục tiêu \(Self.number(target))\(self.chart.indicator.unit == "%" ? "%" : " phút")</text>
        </g>

        """
    }
    for (number, series) in self.chart.series.enumerated() {
      let color = Self.palette[number % Self.palette.count]
      var path = ""
      var pen = "M"
      var points = ""
      for (index, point) in series.points.enumerated() {
        guard let value = point.value else {
          pen = "M"
          continue
        }
        path += "\(pen)\(Self.number(x(index))) \(Self.number(y(value))) "
        pen = "L"
        points += """
          <circle cx="\(Self.number(x(index)))" cy="\(Self.number(y(value)))" r="3.5" fill="\(color)" \
          data-bucket="\(index)" data-value="\(Self.number(value))" data-count="\(point.count)">\
          <title>\(Self.escape(series.key)) \(Self.date(point.period.lowerBound)): \
          \(Self.number(value)) \(self.chart.indicator.unit) (n = \(point.count))</title></circle>

          """
      }
      let legendY = self.top + Double(number) * 20
      out += """
        <g class="series" data-key="\(Self.escape(series.key))">
        <path d="\(path.trimmingCharacters(in: .whitespaces))" fill="none" stroke="\(color)" stroke-width="2"/>
        \(points)<rect x="\(Self.number(self.width - self.right + 16))" y="\(Self.number(legendY - 6))" \
        width="12" height="12" fill="\(color)"/>
        <text x="\(Self.number(self.width - self.right + 34))" y="\(Self.number(legendY))" \
        dominant-baseline="middle">\(Self.escape(series.key))</text>
        </g>

        """
    }
    if self.chart.series.isEmpty {
      out += """
        <text x="\(Self.number(self.left + plotWidth / 2))" y="\(Self.number(self.top + plotHeight / 2))" \
        text-anchor="middle">Không có số liệu trong kỳ</text>

        """
    }
    return out + "</svg>\n"
  }

  /// 100 for shares; for waits, the largest value or twice the target, up to a multiple of 5.
  private func scaleMaximum() -> Double {
    guard self.chart.indicator == .wait else { return 100 }
    let largest = self.chart.series.flatMap(\.points).compactMap(\.value).max() ?? 0
    let top = max(largest, 2 * (self.chart.indicator.target ?? 15))
    return (top / 5).rounded(.up) * 5
  }

  static func date(_ date: CivilDate) -> String {
    String(format: "%02d/%02d/%04d", date.day, date.month, date.year)
  }

  static func number(_ value: Double) -> String {
    value == value.rounded() ? String(Int(value)) : String(format: "%.1f", value)
  }

  static func escape(_ text: String) -> String {
    text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
      .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
  }
}
