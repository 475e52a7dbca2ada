// SPDX-License-Identifier: Apache-2.0
#include <tomato/server/serverstatus_p.h>

#include <tomato/server/servercore_p.h>
#include <tomato/status/metrics_p.h>

#include <algorithm>

namespace Tomato {

namespace {
std::atomic<int> lastSerial{0};
} // namespace

ServerStatusSource::ServerStatusSource(ServerCore *core)
    : m_core(core), m_serial(++lastSerial)
{
}

void ServerStatusSource::detach()
{
    QWriteLocker lock(&m_coreLock);
    m_core = nullptr;
}

ServerStatusSource::Life ServerStatusSource::life() const
{
    QMutexLocker lock(&m_mutex);
    return m_life;
}

StatusSource::Readiness ServerStatusSource::readiness() const
{
    const Life l = life();
    if (l.stopping || (!l.running && l.startedAt > 0))
        return Readiness::Draining;
    if (!l.running || (l.usesRegistry && !l.registered))
        return Readiness::Starting;
    return Readiness::Ready;
}

QVariantMap ServerStatusSource::identity() const
{
    const Life l = life();
    QReadLocker lock(&m_coreLock);
    const ServerCore *core = m_core;
    QVariantMap out;
    if (!core)
        return out;
    const RpcConfig &cfg = core->config;
    QVariantList addresses;
    for (const Endpoint &e : l.addresses)
        addresses.append(e.toString());
    out.insert(QStringLiteral("server"), m_serial); // this server among the process's
    out.insert(QStringLiteral("microServiceId"), cfg.microServiceId());
    out.insert(QStringLiteral("stage"), cfg.stage());
    out.insert(QStringLiteral("group"), cfg.group());
    out.insert(QStringLiteral("weight"), cfg.weight());
    out.insert(QStringLiteral("addresses"), addresses);
    out.insert(QStringLiteral("address"), addresses.isEmpty() ? QString() : addresses.first().toString());
    // What the registry shows, or without one the first network address.
    const auto network = std::find_if(l.addresses.cbegin(), l.addresses.cend(), [](const Endpoint &e) { return !e.hasPath(); });
    if (l.instance.port() != 0) {
        out.insert(QStringLiteral("host"), l.instance.host());
        out.insert(QStringLiteral("port"), l.instance.port());
        out.insert(QStringLiteral("transport"), l.instance.transport());
    } else if (network != l.addresses.cend()) {
        out.insert(QStringLiteral("host"), network->host());
        out.insert(QStringLiteral("port"), network->port());
        out.insert(QStringLiteral("transport"), network->scheme());
    }
    out.insert(QStringLiteral("interfaces"), ServerCore::interfacesHash(core->signatures()));
    out.insert(QStringLiteral("startedAt"), l.startedAt);
    out.insert(QStringLiteral("overloaded"), core->overloaded.load());
    out.insert(QStringLiteral("registry"), QVariantMap{{QStringLiteral("used"), l.usesRegistry},
                                                       {QStringLiteral("connected"), l.registryConnected},
                                                       {QStringLiteral("registered"), l.registered}});
    return out;
}

namespace {
QString typeName(QMetaType type)
{
    return type.isValid() ? QString::fromLatin1(type.name()) : QStringLiteral("void");
}

QVariantMap describeMethod(const MethodInfo &m, const QStringList &configuredIdempotent)
{
    QVariantList arguments;
    for (qsizetype i = 0; i < m.parameterTypes.size(); ++i) {
        const QByteArray name = m.parameterNames.value(i);
        arguments.append(QVariantMap{{QStringLiteral("name"), name.isEmpty() ? QStringLiteral("arg%1").arg(i)
                                                                             : QString::fromLatin1(name)},
                                     {QStringLiteral("type"), typeName(m.parameterTypes.at(i))}});
    }
    return QVariantMap{{QStringLiteral("name"), QString::fromLatin1(m.name)},
                       {QStringLiteral("signature"), QString::fromLatin1(m.signature)},
                       {QStringLiteral("returnType"), typeName(m.returnType)},
                       {QStringLiteral("arguments"), arguments},
                       {QStringLiteral("idempotent"),
                        m.idempotent || configuredIdempotent.contains(QString::fromLatin1(m.name))}};
}
} // namespace

QVariantList ServerStatusSource::services() const
{
    QReadLocker lock(&m_coreLock);
    const ServerCore *core = m_core;
    if (!core)
        return {};
    QVariantList out;
    const auto configuredIdempotent = core->config.idempotentMethods();
    for (const auto &service : core->allServices()) {
        const QString &microServiceId = service->info.microServiceId;
        const QStringList idempotent = configuredIdempotent.value(microServiceId);
        QVariantList methods;
        QStringList signatures;
        for (const MethodInfo &m : service->info.methods) {
            methods.append(describeMethod(m, idempotent));
            signatures << QString::fromLatin1(service->info.serviceName + "::" + m.signature);
        }
        out.append(QVariantMap{{QStringLiteral("service"), QString::fromLatin1(service->info.serviceName)},
                               {QStringLiteral("microServiceId"), microServiceId},
                               {QStringLiteral("interfaceHash"), ServerCore::interfacesHash(signatures)},
                               {QStringLiteral("builtin"), service->builtin},
                               {QStringLiteral("methods"), methods}});
    }
    return out;
}

namespace {
// The upper bounds of latencyBuckets' buckets but the last (+Inf), in milliseconds.
QVariantList latencyBoundsMs()
{
    QVariantList bounds;
    for (const double seconds : MethodMetrics::bucketBounds)
        bounds.append(seconds * 1000.0);
    return bounds;
}

QVariantMap methodStatistics(const MethodMetrics &m)
{
    QVariantMap byCode;
    quint64 calls = 0, errors = 0;
    for (int slot = 0; slot < MethodMetrics::Codes; ++slot) {
        const quint64 n = m.byCode[slot].load(std::memory_order_relaxed);
        if (n == 0)
            continue;
        byCode.insert(RpcError::codeName(MethodMetrics::codeOfSlot(slot)), n);
        calls += n;
        if (slot != 0)
            errors += n;
    }
    quint64 timed = 0;
    QVariantList buckets; // not cumulative, as latencyBoundsMs says
    for (const auto &b : m.buckets) {
        const quint64 n = b.load(std::memory_order_relaxed);
        timed += n;
        buckets.append(n);
    }
    const double meanMs = timed ? double(m.sumNs.load(std::memory_order_relaxed)) / double(timed) / 1e6 : 0.0;
    return QVariantMap{{QStringLiteral("calls"), calls},
                       {QStringLiteral("errors"), errors},
                       {QStringLiteral("byCode"), byCode},
                       {QStringLiteral("meanMs"), meanMs},
                       {QStringLiteral("latencyBuckets"), buckets}};
}
} // namespace

QVariantMap ServerStatusSource::statistics() const
{
    QReadLocker lock(&m_coreLock);
    const ServerCore *core = m_core;
    if (!core)
        return {};
    const ServerCore &c = *core;
    QVariantList methods;
    for (const auto &service : c.allServices()) {
        for (const MethodInfo &m : service->info.methods) {
            QVariantMap entry = methodStatistics(service->metricsOf(&m));
            entry.insert(QStringLiteral("service"), QString::fromLatin1(service->info.serviceName));
            entry.insert(QStringLiteral("method"), QString::fromLatin1(m.name));
            methods.append(entry);
        }
    }
    return QVariantMap{
        {QStringLiteral("callsReceived"), c.callsReceived.load()},
        {QStringLiteral("callsSucceeded"), c.callsSucceeded.load()},
        {QStringLiteral("callsFailed"), c.callsFailed.load()},
        {QStringLiteral("callsCancelled"), c.callsCancelled.load()},
        {QStringLiteral("callsExpired"), c.callsExpired.load()},
        {QStringLiteral("callsOverloaded"), c.callsOverloaded.load()},
        {QStringLiteral("cancelRequests"), c.cancelRequests.load()},
        {QStringLiteral("protocolErrors"), c.protocolErrors.load()},
        {QStringLiteral("handshakeFailures"), c.handshakeFailures.load()},
        {QStringLiteral("connectionsAccepted"), c.connectionsAccepted.load()},
        {QStringLiteral("connectionsRefused"), c.limits.refused()},
        {QStringLiteral("maxConnections"), c.limits.maxConnections()},
        {QStringLiteral("frameTimeouts"), c.frameTimeouts.load()},
        {QStringLiteral("firstByteTimeouts"), c.firstByteTimeouts.load()},
        {QStringLiteral("bufferedBytes"), c.budget->used()},
        {QStringLiteral("maxBufferedBytes"), c.budget->limit()},
        {QStringLiteral("bufferWaits"), c.budget->waits()},
        {QStringLiteral("bufferEvictions"), c.budget->evictions()},
        {QStringLiteral("acceptExhaustions"), c.acceptExhaustions.load()},
        {QStringLiteral("connections"), c.connections.load()},
        {QStringLiteral("callsInFlight"), c.callsInFlight.load()},
        {QStringLiteral("callsQueued"), c.queuedCalls()},
        {QStringLiteral("subscriptions"), c.signalCounters->subscriptions.load()},
        {QStringLiteral("events"), c.signalCounters->events.load()},
        {QStringLiteral("subscriptionsEnded"), c.signalCounters->overflows.load()},
        {QStringLiteral("bytesReceived"), c.bytesReceived.load()},
        {QStringLiteral("bytesSent"), c.bytesSent.load()},
        {QStringLiteral("unknownCalls"), methodStatistics(c.unknownMetrics)},
        {QStringLiteral("methods"), methods},
        {QStringLiteral("latencyBoundsMs"), latencyBoundsMs()},
    };
}

void ServerStatusSource::writeCallMetrics(MetricsWriter &out, const ServerCore &core) const
{
    static const std::vector<double> bounds(std::begin(MethodMetrics::bucketBounds), std::end(MethodMetrics::bucketBounds));
    auto writeCodes = [&](const MetricLabels &labels, const MethodMetrics &m) {
        for (int slot = 0; slot < MethodMetrics::Codes; ++slot) {
            const quint64 n = m.byCode[slot].load(std::memory_order_relaxed);
            if (n == 0 && slot != 0)
                continue;
            MetricLabels withCode = labels;
            withCode.emplace_back("code", RpcError::codeName(MethodMetrics::codeOfSlot(slot)));
            out.counter("tomato_server_calls_total", "Calls answered, by service, method and code (Ok or the error code's name).",
                        withCode, double(n));
        }
    };
    for (const auto &service : core.allServices()) {
        for (const MethodInfo &m : service->info.methods) {
            const MethodMetrics &metrics = service->metricsOf(&m);
            const MetricLabels labels{{"service", QString::fromLatin1(service->info.serviceName)},
                                      {"method", QString::fromLatin1(m.name)}};
            writeCodes(labels, metrics);
            std::vector<quint64> cumulative;
            quint64 running = 0;
            for (const auto &b : metrics.buckets)
                cumulative.push_back(running += b.load(std::memory_order_relaxed));
            out.histogram("tomato_server_call_duration_seconds",
                          "Time from a call's arrival to its answer, of calls admitted to run.", labels, bounds,
                          cumulative, double(metrics.sumNs.load(std::memory_order_relaxed)) / 1e9);
        }
    }
    quint64 unknown = 0;
    for (const auto &n : core.unknownMetrics.byCode)
        unknown += n.load(std::memory_order_relaxed);
    if (unknown > 0)
        writeCodes({{"service", QString()}, {"method", QString()}}, core.unknownMetrics);
}

void ServerStatusSource::writeMetrics(MetricsWriter &out) const
{
    QReadLocker lock(&m_coreLock);
    const ServerCore *core = m_core;
    if (!core)
        return;
    const ServerCore &c = *core;
    writeCallMetrics(out, c);
    out.gauge("tomato_server_calls_in_flight", "Calls admitted and not yet answered (queued or running).", {},
              c.callsInFlight.load());
    out.gauge("tomato_server_calls_queued", "Calls waiting for a business thread.", {}, c.queuedCalls());
    out.gauge("tomato_server_connections", "Open RPC connections.", {}, c.connections.load());
    out.counter("tomato_server_connections_accepted_total", "Connections accepted on the RPC addresses (status requests included).", {}, double(c.connectionsAccepted.load()));
    out.counter("tomato_server_received_bytes_total", "Bytes read from RPC connections.", {}, double(c.bytesReceived.load()));
    out.counter("tomato_server_sent_bytes_total", "Bytes of answers written to RPC connections.", {}, double(c.bytesSent.load()));
    out.counter("tomato_server_calls_cancelled_total", "Calls dropped because the caller cancelled before they started, or while their future was pending.",
                {}, double(c.callsCancelled.load()));
    out.counter("tomato_server_calls_expired_total", "Calls answered DeadlineExceeded without running, or while their future was pending.", {},
                double(c.callsExpired.load()));
    out.counter("tomato_server_calls_overloaded_total", "Calls refused Overloaded on arrival (queue bounds or the application).",
                {}, double(c.callsOverloaded.load()));
    out.counter("tomato_server_protocol_errors_total", "Connections closed for bad frames, and oversized frames refused.", {},
                double(c.protocolErrors.load()));
    out.counter("tomato_server_handshake_failures_total", "Connections that never came up (TLS handshake failed).", {},
                double(c.handshakeFailures.load()));
    out.gauge("tomato_server_max_connections", "Connections the server holds at most (max-connections, or derived).", {},
              c.limits.maxConnections());
    out.counter("tomato_server_connections_refused_total",
                "Connections refused at max-connections or max-connections-per-host.", {}, double(c.limits.refused()));
    out.counter("tomato_server_connections_timed_out_total", "Connections closed at a read deadline, by which one.",
                {{"deadline", QStringLiteral("first-byte")}}, double(c.firstByteTimeouts.load()));
    out.counter("tomato_server_connections_timed_out_total", "Connections closed at a read deadline, by which one.",
                {{"deadline", QStringLiteral("frame")}}, double(c.frameTimeouts.load()));
    out.gauge("tomato_server_buffered_bytes", "Bytes held against max-buffered-bytes (unfinished and large requests, unsent answers).",
              {}, double(c.budget->used()));
    out.gauge("tomato_server_buffered_bytes_max", "max-buffered-bytes.", {}, double(c.budget->limit()));
    out.counter("tomato_server_buffer_waits_total", "Times a connection stopped reading for want of room in max-buffered-bytes.",
                {}, double(c.budget->waits()));
    out.counter("tomato_server_buffer_evictions_total", "Connections closed to free memory for others (max-buffered-bytes).",
                {}, double(c.budget->evictions()));
    out.counter("tomato_server_accept_exhaustions_total",
                "Times accepting found the process out of descriptors or memory (EMFILE, ENFILE, ENOBUFS, ENOMEM).", {},
                double(c.acceptExhaustions.load()));
    out.gauge("tomato_server_overloaded", "1 while the application says the server is overloaded.", {},
              c.overloaded.load() ? 1 : 0);
    const SignalCounters &sc = *c.signalCounters;
    out.gauge("tomato_server_subscriptions", "Remote-signal subscriptions held now (docs/SIGNALS.md).", {},
              sc.subscriptions.load());
    out.counter("tomato_server_events_total", "Remote-signal events queued to subscribers.", {},
                double(sc.events.load()));
    out.counter("tomato_server_subscriptions_ended_total",
                "Subscriptions the server ended because the subscriber fell behind (max-event-queue-bytes).", {},
                double(sc.overflows.load()));
    const Life l = life();
    if (l.usesRegistry) {
        out.gauge("tomato_registry_connected", "1 while the registry session is connected.", {{"side", QStringLiteral("server")}},
                  l.registryConnected ? 1 : 0);
        out.gauge("tomato_registry_registered", "1 while the server's instance is registered.", {}, l.registered ? 1 : 0);
    }
}

} // namespace Tomato
