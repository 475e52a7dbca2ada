// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <QtCore/QByteArray>
#include <QtCore/QList>
#include <QtCore/QString>
#include <initializer_list>
#include <utility>
#include <vector>

namespace Tomato {

// Label name and value of one sample, e.g. {"service", "Sample::EchoService"}.
using MetricLabel = std::pair<QByteArray, QString>;
using MetricLabels = std::vector<MetricLabel>;

// Builds a page in the Prometheus text exposition format, version 0.0.4
// (https://prometheus.io/docs/instrumenting/exposition_formats/): per family one `# HELP`
// and one `# TYPE` line, then its samples. Samples of one family may come from several
// parts (two clients of the process) in any order: families keep the order in which they
// were first named, samples the order in which they were added. Label values are escaped
// (\\, \" and \n); numbers are written exactly (integers as integers, doubles shortest).
// Not thread-safe: one writer per page.
class MetricsWriter
{
public:
    void counter(const char *name, const char *help, const MetricLabels &labels, double value);
    void gauge(const char *name, const char *help, const MetricLabels &labels, double value);
    // A histogram: `upperBounds` ascending (seconds), `cumulativeCounts` one per bound plus
    // the +Inf bucket (so the last is the count), `sum` in the same unit as the bounds.
    void histogram(const char *name, const char *help, const MetricLabels &labels,
                   const std::vector<double> &upperBounds, const std::vector<quint64> &cumulativeCounts,
                   double sum);
    // A summary of quantiles ({0.5, v}, {0.99, v}, ...) with its count and sum.
    void summary(const char *name, const char *help, const MetricLabels &labels,
                 const std::vector<std::pair<double, double>> &quantiles, quint64 count, double sum);

    // Labels added to every sample written from now on (after the sample's own), e.g.
    // {"server", "tcp://0.0.0.0:4567"} while a page covers several servers of a process.
    void setCommonLabels(const MetricLabels &labels) { m_common = labels; }

    QByteArray text() const;
    // "text/plain; version=0.0.4; charset=utf-8"
    static const char *contentType();
    static QByteArray formatNumber(double value);

private:
    struct Family
    {
        QByteArray name;
        QByteArray help;
        const char *type;
        QByteArray samples;
    };
    Family &family(const char *name, const char *help, const char *type);
    void writeSample(QByteArray &out, const QByteArray &name, const MetricLabels &labels,
                     const MetricLabel *extra, double value) const;

    std::vector<Family> m_families;
    MetricLabels m_common;
};

} // namespace Tomato
