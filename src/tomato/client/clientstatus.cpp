// SPDX-License-Identifier: Apache-2.0
#include <tomato/client/clientstatus_p.h>

#include <tomato/core/endpoint.h>
#include <tomato/core/rpcerror.h>
#include <tomato/status/metrics_p.h>

namespace Tomato {

ClientStatusSource::ClientStatusSource(Reader reader, int serial, const QString &stage, const QString &group)
    : m_reader(std::move(reader)), m_serial(serial), m_stage(stage), m_group(group)
{
}

void ClientStatusSource::setRegistry(bool used, bool connected)
{
    QMutexLocker lock(&m_mutex);
    m_usesRegistry = used;
    m_registryConnected = connected;
}

void ClientStatusSource::detach()
{
    QWriteLocker lock(&m_readerLock);
    m_reader = nullptr;
}

QList<InvokerStats> ClientStatusSource::read(const QString &microServiceId) const
{
    QReadLocker lock(&m_readerLock);
    return m_reader ? m_reader(microServiceId) : QList<InvokerStats>();
}

QVariantMap ClientStatusSource::identity() const
{
    QMutexLocker lock(&m_mutex);
    return QVariantMap{{QStringLiteral("stage"), m_stage},
                       {QStringLiteral("group"), m_group},
                       {QStringLiteral("client"), m_serial},
                       {QStringLiteral("registry"), QVariantMap{{QStringLiteral("used"), m_usesRegistry},
                                                                {QStringLiteral("connected"), m_registryConnected}}}};
}

namespace {
double ms(qint64 us)
{
    return double(us) / 1000.0;
}
} // namespace

QVariantMap ClientStatusSource::toVariant(const InvokerStats &s)
{
    const Endpoint address = Endpoint::fromString(s.address);
    QVariantMap errorsByCode;
    for (auto it = s.errorsByCode.cbegin(); it != s.errorsByCode.cend(); ++it)
        errorsByCode.insert(RpcError::codeName(RpcError::Code(it.key())), it.value());
    return QVariantMap{
        // Tomato-RPC's fields, unchanged.
        {QStringLiteral("protocol"), QStringLiteral("tomato")},
        {QStringLiteral("host"), address.host()},
        {QStringLiteral("port"), address.port()},
        {QStringLiteral("microServiceId"), s.microServiceId},
        {QStringLiteral("stage"), s.stage},
        {QStringLiteral("group"), s.group},
        // Ours.
        {QStringLiteral("transport"), address.scheme()},
        {QStringLiteral("address"), s.address},
        {QStringLiteral("connected"), s.connected},
        {QStringLiteral("state"), s.state},
        {QStringLiteral("circuit"), s.circuit},
        {QStringLiteral("inFlight"), s.inFlight},
        {QStringLiteral("calls"), s.calls},
        {QStringLiteral("errors"), s.failures},
        {QStringLiteral("errorsByCode"), errorsByCode},
        {QStringLiteral("p50Ms"), ms(s.p50Us)},
        {QStringLiteral("p90Ms"), ms(s.p90Us)},
        {QStringLiteral("p99Ms"), ms(s.p99Us)},
        {QStringLiteral("maxMs"), ms(s.maxUs)},
        {QStringLiteral("weight"), s.weight},
        {QStringLiteral("effectiveWeight"), s.effectiveWeight},
        {QStringLiteral("lastError"), s.lastError},
        {QStringLiteral("lastErrorAt"), s.lastErrorAt.isValid() ? s.lastErrorAt.toString(Qt::ISODateWithMs) : QString()},
        {QStringLiteral("startedAt"), s.startedAt.isValid() ? s.startedAt.toString(Qt::ISODateWithMs) : QString()},
    };
}

QVariantList ClientStatusSource::invokers(const QString &microServiceId) const
{
    QVariantList out;
    for (const InvokerStats &s : read(microServiceId))
        out.append(toVariant(s));
    return out;
}

void ClientStatusSource::writeMetrics(MetricsWriter &out) const
{
    for (const InvokerStats &s : read(QString())) {
        const MetricLabels labels{{"service", s.microServiceId}, {"instance", s.address},
                                  {"stage", s.stage}, {"group", s.group}};
        MetricLabels ok = labels;
        ok.emplace_back("code", RpcError::codeName(RpcError::Ok));
        out.counter("tomato_client_calls_total", "Calls ended at an instance, by service, instance and code.", ok,
                    double(s.calls - s.failures));
        for (auto it = s.errorsByCode.cbegin(); it != s.errorsByCode.cend(); ++it) {
            MetricLabels failed = labels;
            failed.emplace_back("code", RpcError::codeName(RpcError::Code(it.key())));
            out.counter("tomato_client_calls_total", "Calls ended at an instance, by service, instance and code.",
                        failed, double(it.value()));
        }
        out.gauge("tomato_client_calls_in_flight", "Calls sent to an instance and not ended yet.", labels, s.inFlight);
        for (const auto &[q, us] : {std::pair{0.5, s.p50Us}, {0.9, s.p90Us}, {0.99, s.p99Us}}) {
            MetricLabels quantile = labels;
            quantile.emplace_back("quantile", QString::fromLatin1(MetricsWriter::formatNumber(q)));
            out.gauge("tomato_client_call_latency_seconds",
                      "Latency quantiles of an instance's most recent successful calls (up to 1024).", quantile,
                      double(us) / 1e6);
        }
        for (const char *state : {"closed", "open", "half-open"}) {
            MetricLabels withState = labels;
            withState.emplace_back("state", QString::fromLatin1(state));
            out.gauge("tomato_client_circuit_state", "1 for the state an instance's circuit breaker is in.", withState,
                      s.circuit == QLatin1String(state) ? 1 : 0);
        }
        out.gauge("tomato_client_instance_connected", "1 while a connection to the instance is up.", labels,
                  s.connected ? 1 : 0);
        out.gauge("tomato_client_instance_weight", "The instance's weight now (override and warm-up applied).", labels,
                  s.effectiveWeight);
    }
    QMutexLocker lock(&m_mutex);
    if (m_usesRegistry)
        out.gauge("tomato_registry_connected", "1 while the registry session is connected.",
                  {{"side", QStringLiteral("client")}}, m_registryConnected ? 1 : 0);
}

} // namespace Tomato
