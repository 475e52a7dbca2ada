// SPDX-License-Identifier: Apache-2.0
#include <tomato/status/metrics_p.h>

#include <QtCore/QLocale>

#include <cmath>
#include <limits>

namespace Tomato {

const char *MetricsWriter::contentType()
{
    return "text/plain; version=0.0.4; charset=utf-8";
}

QByteArray MetricsWriter::formatNumber(double value)
{
    if (std::isnan(value))
        return "NaN";
    if (std::isinf(value))
        return value > 0 ? "+Inf" : "-Inf";
    // Integers (counters mostly) exactly, up to 2^53; anything else shortest round-trip.
    if (value == std::floor(value) && std::fabs(value) < 9007199254740992.0)
        return QByteArray::number(qint64(value));
    // Shortest round-trip digits; plain notation where it stays short ("0.0001", not "1e-04").
    const double magnitude = std::fabs(value);
    return QByteArray::number(value, magnitude >= 1e-9 && magnitude < 1e15 ? 'f' : 'g', QLocale::FloatingPointShortest);
}

MetricsWriter::Family &MetricsWriter::family(const char *name, const char *help, const char *type)
{
    for (Family &f : m_families) {
        if (f.name == name)
            return f;
    }
    m_families.push_back(Family{QByteArray(name), QByteArray(help), type, {}});
    return m_families.back();
}

namespace {
void escapeLabelValue(QByteArray &out, const QString &value)
{
    const QByteArray utf8 = value.toUtf8();
    for (char c : utf8) {
        switch (c) {
        case '\\': out += "\\\\"; break;
        case '"': out += "\\\""; break;
        case '\n': out += "\\n"; break;
        default: out += c;
        }
    }
}

void escapeHelp(QByteArray &out, const QByteArray &help)
{
    for (char c : help) {
        switch (c) {
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        default: out += c;
        }
    }
}
} // namespace

void MetricsWriter::writeSample(QByteArray &out, const QByteArray &name, const MetricLabels &labels,
                                const MetricLabel *extra, double value) const
{
    out += name;
    if (!labels.empty() || extra || !m_common.empty()) {
        out += '{';
        bool first = true;
        auto add = [&](const MetricLabel &l) {
            if (!first)
                out += ',';
            first = false;
            out += l.first;
            out += "=\"";
            escapeLabelValue(out, l.second);
            out += '"';
        };
        for (const MetricLabel &l : labels)
            add(l);
        for (const MetricLabel &l : m_common)
            add(l);
        if (extra)
            add(*extra);
        out += '}';
    }
    out += ' ';
    out += formatNumber(value);
    out += '\n';
}

void MetricsWriter::counter(const char *name, const char *help, const MetricLabels &labels, double value)
{
    writeSample(family(name, help, "counter").samples, name, labels, nullptr, value);
}

void MetricsWriter::gauge(const char *name, const char *help, const MetricLabels &labels, double value)
{
    writeSample(family(name, help, "gauge").samples, name, labels, nullptr, value);
}

void MetricsWriter::histogram(const char *name, const char *help, const MetricLabels &labels,
                              const std::vector<double> &upperBounds, const std::vector<quint64> &cumulativeCounts,
                              double sum)
{
    Q_ASSERT(cumulativeCounts.size() == upperBounds.size() + 1);
    QByteArray &out = family(name, help, "histogram").samples;
    const QByteArray base(name);
    const QByteArray bucket = base + "_bucket";
    for (size_t i = 0; i <= upperBounds.size(); ++i) {
        const MetricLabel le{"le", QString::fromLatin1(formatNumber(
                                       i < upperBounds.size() ? upperBounds[i] : std::numeric_limits<double>::infinity()))};
        writeSample(out, bucket, labels, &le, double(cumulativeCounts[i]));
    }
    writeSample(out, base + "_sum", labels, nullptr, sum);
    writeSample(out, base + "_count", labels, nullptr, double(cumulativeCounts.back()));
}

void MetricsWriter::summary(const char *name, const char *help, const MetricLabels &labels,
                            const std::vector<std::pair<double, double>> &quantiles, quint64 count, double sum)
{
    QByteArray &out = family(name, help, "summary").samples;
    const QByteArray base(name);
    for (const auto &q : quantiles) {
        const MetricLabel quantile{"quantile", QString::fromLatin1(formatNumber(q.first))};
        writeSample(out, base, labels, &quantile, q.second);
    }
    writeSample(out, base + "_sum", labels, nullptr, sum);
    writeSample(out, base + "_count", labels, nullptr, double(count));
}

QByteArray MetricsWriter::text() const
{
    QByteArray out;
    for (const Family &f : m_families) {
        out += "# HELP " + f.name + ' ';
        escapeHelp(out, f.help);
        out += "\n# TYPE " + f.name + ' ' + f.type + '\n';
        out += f.samples;
    }
    return out;
}

} // namespace Tomato
