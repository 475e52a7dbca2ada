// SPDX-License-Identifier: Apache-2.0
#include "healthpoller.h"

#include <QtCore/QFile>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QUrlQuery>
#include <QtNetwork/QNetworkAccessManager>
#include <QtNetwork/QNetworkReply>
#include <QtNetwork/QSslKey>

#include <algorithm>

namespace Tomato {

namespace {
constexpr int RequestTimeoutMs = 2000;
constexpr int MaxConcurrentPolls = 8;
constexpr int MaxErrors = 50;
const QString ConsumerPrefix = QStringLiteral("consumer:");

QVariant json(QNetworkReply *reply)
{
    return QJsonDocument::fromJson(reply->readAll()).toVariant();
}

// The sum over methods of one of their counters.
double sumOf(const QVariantMap &statistics, const QString &key)
{
    double sum = 0;
    for (const QVariant &m : statistics.value(QStringLiteral("methods")).toList())
        sum += m.toMap().value(key).toDouble();
    return sum;
}

// The latency buckets of every method added up (not cumulative).
QList<double> bucketsOf(const QVariantMap &statistics)
{
    QList<double> sum;
    for (const QVariant &m : statistics.value(QStringLiteral("methods")).toList()) {
        const QVariantList buckets = m.toMap().value(QStringLiteral("latencyBuckets")).toList();
        if (sum.size() < buckets.size())
            sum.resize(buckets.size());
        for (qsizetype i = 0; i < buckets.size(); ++i)
            sum[i] += buckets[i].toDouble();
    }
    return sum;
}

} // namespace

double HealthPoller::p99Between(const QVariantMap &before, const QVariantMap &after)
{
    const QVariantList bounds = after.value(QStringLiteral("latencyBoundsMs")).toList();
    const QList<double> a = bucketsOf(after), b = bucketsOf(before);
    double total = 0;
    QList<double> delta(a.size());
    for (qsizetype i = 0; i < a.size(); ++i) {
        delta[i] = std::max(0.0, a[i] - (i < b.size() ? b[i] : 0.0));
        total += delta[i];
    }
    if (total <= 0 || bounds.isEmpty())
        return -1;
    const double rank = 0.99 * total;
    double seen = 0;
    for (qsizetype i = 0; i < delta.size(); ++i) {
        if (seen + delta[i] >= rank && delta[i] > 0) {
            if (i >= bounds.size())
                return bounds.last().toDouble(); // +Inf bucket: the largest finite bound
            const double lower = i == 0 ? 0.0 : bounds[i - 1].toDouble();
            const double upper = bounds[i].toDouble();
            return lower + (upper - lower) * (rank - seen) / delta[i];
        }
        seen += delta[i];
    }
    return bounds.last().toDouble();
}

HealthPoller::HealthPoller(const RpcConfig &config, int intervalMs, int maxPerSecond, QObject *parent)
    : QObject(parent), m_config(config), m_intervalMs(std::max(100, intervalMs)),
      m_maxPerSecond(std::max(1, maxPerSecond)), m_nam(new QNetworkAccessManager(this))
{
    m_ssl = QSslConfiguration::defaultConfiguration();
    if (!config.tlsCa().isEmpty())
        m_ssl.setCaCertificates(QSslCertificate::fromPath(config.tlsCa()));
    if (!config.tlsCert().isEmpty()) {
        const QList<QSslCertificate> chain = QSslCertificate::fromPath(config.tlsCert());
        if (!chain.isEmpty())
            m_ssl.setLocalCertificateChain(chain);
        QFile file(config.tlsKey());
        const QByteArray pem = file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
        for (const QSsl::KeyAlgorithm algorithm : {QSsl::Rsa, QSsl::Ec, QSsl::Dsa}) {
            const QSslKey key(pem, algorithm);
            if (!key.isNull()) {
                m_ssl.setPrivateKey(key);
                break;
            }
        }
    }
    if (!config.tlsVerifyPeer())
        m_ssl.setPeerVerifyMode(QSslSocket::VerifyNone);
    m_steady.start();
    m_timer.setInterval(1000 / m_maxPerSecond);
    connect(&m_timer, &QTimer::timeout, this, &HealthPoller::tick);
    m_timer.start();
}

HealthPoller::~HealthPoller() = default;

void HealthPoller::setInstances(const QHash<QString, QString> &transports)
{
    m_transports = transports;
    for (auto it = m_targets.begin(); it != m_targets.end();) {
        if (!it->key.startsWith(ConsumerPrefix) && !transports.contains(it->key))
            it = m_targets.erase(it);
        else
            ++it;
    }
    for (auto it = m_health.begin(); it != m_health.end();) {
        if (!transports.contains(it.key()))
            it = m_health.erase(it);
        else
            ++it;
    }
    for (auto it = transports.cbegin(); it != transports.cend(); ++it) {
        if (!m_targets.contains(it.key()))
            m_targets.insert(it.key(), Target{it.key(), 0, false});
    }
}

void HealthPoller::setPreferred(const QStringList &addresses)
{
    m_preferred = addresses;
}

void HealthPoller::setDetailed(const QString &address)
{
    if (m_detailed == address)
        return;
    m_detailed = address;
    if (m_targets.contains(address))
        m_targets[address].dueAt = 0; // its metrics now
}

void HealthPoller::setConsumers(const QString &microServiceId, const QStringList &statusAddresses)
{
    if (microServiceId != m_consumerService)
        m_consumers.clear();
    m_consumerService = microServiceId;
    for (auto it = m_targets.begin(); it != m_targets.end();) {
        if (it->key.startsWith(ConsumerPrefix) && !statusAddresses.contains(it->key.mid(ConsumerPrefix.size())))
            it = m_targets.erase(it);
        else
            ++it;
    }
    for (const QString &a : statusAddresses) {
        const QString key = ConsumerPrefix + a;
        if (!m_targets.contains(key))
            m_targets.insert(key, Target{key, 0, false});
    }
}

const InstanceHealth *HealthPoller::health(const QString &address) const
{
    const auto it = m_health.constFind(address);
    return it == m_health.cend() ? nullptr : &*it;
}

const ConsumerHealth *HealthPoller::consumer(const QString &statusAddress) const
{
    const auto it = m_consumers.constFind(statusAddress);
    return it == m_consumers.cend() ? nullptr : &*it;
}

bool HealthPoller::allSampled(const QStringList &addresses) const
{
    return std::all_of(addresses.cbegin(), addresses.cend(), [this](const QString &a) {
        const InstanceHealth *h = health(a);
        return h && (h->state == QLatin1String("not-answering") || !h->history.empty());
    });
}

bool HealthPoller::allConsumersPolled(const QStringList &statusAddresses) const
{
    return std::all_of(statusAddresses.cbegin(), statusAddresses.cend(),
                       [this](const QString &a) { return m_consumers.contains(a); });
}

// The due target on screen that has waited longest, else any; every fourth tick the one that
// has waited longest whatever it is.
HealthPoller::Target *HealthPoller::nextDue()
{
    const qint64 now = m_steady.elapsed();
    const bool anyTarget = ++m_ticks % 4 == 0;
    Target *best = nullptr;
    bool bestPreferred = false;
    for (Target &t : m_targets) {
        if (t.busy || t.dueAt > now)
            continue;
        const bool preferred = !anyTarget
            && (t.key.startsWith(ConsumerPrefix) || m_preferred.contains(t.key) || t.key == m_detailed);
        if (!best || (preferred && !bestPreferred) || (preferred == bestPreferred && t.dueAt < best->dueAt)) {
            best = &t;
            bestPreferred = preferred;
        }
    }
    return best;
}

// One poll a tick at most: the whole poller stays under maxPerSecond.
void HealthPoller::tick()
{
    if (m_inFlight >= MaxConcurrentPolls)
        return;
    Target *t = nextDue();
    if (!t)
        return;
    t->busy = true;
    t->dueAt = m_steady.elapsed() + m_intervalMs;
    ++m_inFlight;
    if (t->key.startsWith(ConsumerPrefix))
        pollConsumer(t->key.mid(ConsumerPrefix.size()));
    else
        pollInstance(t->key);
}

QString HealthPoller::transportOf(const QString &address) const
{
    return m_transports.value(address, QStringLiteral("tcp"));
}

void HealthPoller::get(const QString &transport, const QString &address, const QString &path,
                       std::function<void(QNetworkReply *)> done)
{
    const QString scheme = transport == QLatin1String("tls") ? QStringLiteral("https") : QStringLiteral("http");
    QNetworkRequest request(QUrl(scheme + QStringLiteral("://") + address + path));
    request.setTransferTimeout(RequestTimeoutMs);
    if (scheme == QLatin1String("https"))
        request.setSslConfiguration(m_ssl);
    QNetworkReply *reply = m_nam->get(request);
    connect(reply, &QNetworkReply::finished, this, [reply, done = std::move(done)] {
        reply->deleteLater();
        done(reply);
    });
}

void HealthPoller::pollInstance(const QString &address)
{
    const QString transport = transportOf(address);
    get(transport, address, QStringLiteral("/tomato/status/node"), [this, address, transport](QNetworkReply *node) {
        if (node->error() != QNetworkReply::NoError && node->error() != QNetworkReply::ServiceUnavailableError)
            return finishInstance(address, node->errorString());
        const QVariantMap nodeMap = json(node).toMap();
        if (nodeMap.isEmpty())
            return finishInstance(address, QStringLiteral("its status page answered no node"));
        if (!m_transports.contains(address))
            return finishInstance(address, QString()); // forgotten meanwhile
        InstanceHealth &h = m_health[address];
        const bool restarted = h.node.value(QStringLiteral("startedAt")) != nodeMap.value(QStringLiteral("startedAt"));
        h.node = nodeMap;
        if (restarted) {
            h.services.clear();
            h.lastStatistics.clear();
        }
        get(transport, address, QStringLiteral("/tomato/status/statistics"), [this, address](QNetworkReply *stats) {
            if (stats->error() != QNetworkReply::NoError)
                return finishInstance(address, stats->errorString());
            sample(address, json(stats).toMap());
            finishInstance(address, QString());
        });
        if (h.services.isEmpty()) {
            get(transport, address, QStringLiteral("/tomato/status/services"), [this, address](QNetworkReply *r) {
                if (r->error() == QNetworkReply::NoError && m_health.contains(address)) {
                    m_health[address].services = json(r).toList();
                    Q_EMIT healthChanged(address);
                }
            });
        }
        if (address == m_detailed) {
            get(transport, address, QStringLiteral("/metrics"), [this, address](QNetworkReply *r) {
                if (r->error() == QNetworkReply::NoError && m_health.contains(address)) {
                    m_health[address].metricsText = QString::fromUtf8(r->readAll());
                    Q_EMIT healthChanged(address);
                }
            });
        }
    });
}

HealthSample HealthPoller::compare(const QVariantMap &before, qint64 beforeAt, const QVariantMap &after, qint64 afterAt)
{
    HealthSample s;
    s.at = afterAt;
    const double calls = sumOf(after, QStringLiteral("calls"));
    const double callsBefore = sumOf(before, QStringLiteral("calls"));
    if (before.isEmpty() || calls < callsBefore || afterAt <= beforeAt) {
        s.gap = true;
        return s;
    }
    const double dCalls = calls - callsBefore;
    const double dErrors = sumOf(after, QStringLiteral("errors")) - sumOf(before, QStringLiteral("errors"));
    s.callsPerSecond = dCalls * 1000.0 / double(afterAt - beforeAt);
    s.errorRate = dCalls > 0 ? std::clamp(dErrors / dCalls, 0.0, 1.0) : 0.0;
    s.p99Ms = p99Between(before, after);
    s.inFlight = after.value(QStringLiteral("callsInFlight")).toLongLong();
    return s;
}

QList<HealthError> HealthPoller::errorsBetween(const QVariantMap &before, const QVariantMap &after, qint64 at)
{
    auto nameOf = [](const QVariantMap &m) {
        return m.value(QStringLiteral("service")).toString() + QStringLiteral("::") + m.value(QStringLiteral("method")).toString();
    };
    QHash<QString, QVariantMap> previous;
    for (const QVariant &m : before.value(QStringLiteral("methods")).toList())
        previous.insert(nameOf(m.toMap()), m.toMap().value(QStringLiteral("byCode")).toMap());
    QList<HealthError> out;
    for (const QVariant &m : after.value(QStringLiteral("methods")).toList()) {
        const QString method = nameOf(m.toMap());
        const QVariantMap byCode = m.toMap().value(QStringLiteral("byCode")).toMap();
        for (auto it = byCode.cbegin(); it != byCode.cend(); ++it) {
            const double n = it.value().toDouble() - previous.value(method).value(it.key()).toDouble();
            if (it.key() != QLatin1String("Ok") && n > 0)
                out.append(HealthError{at, method, it.key(), quint64(n)});
        }
    }
    return out;
}

void HealthPoller::append(InstanceHealth &h, const HealthSample &s)
{
    h.history.push_back(s);
    while (h.history.size() > HistoryLength)
        h.history.pop_front();
}

void HealthPoller::sample(const QString &address, const QVariantMap &statistics)
{
    if (!m_health.contains(address))
        return;
    InstanceHealth &h = m_health[address];
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    const QVariantMap before = h.lastStatistics;
    const qint64 beforeAt = h.lastStatisticsAt;
    h.lastStatistics = statistics;
    h.lastStatisticsAt = now;
    if (before.isEmpty() && h.history.empty())
        return; // the very first answer: nothing to compare with, and nothing to break
    append(h, compare(before, beforeAt, statistics, now));
    if (!before.isEmpty()) {
        for (const HealthError &e : errorsBetween(before, statistics, now))
            h.errors.push_back(e);
    }
    while (h.errors.size() > MaxErrors)
        h.errors.pop_front();
}

void HealthPoller::finishInstance(const QString &address, const QString &error)
{
    --m_inFlight;
    if (m_targets.contains(address))
        m_targets[address].busy = false;
    if (!m_transports.contains(address))
        return;
    InstanceHealth &h = m_health[address];
    if (!error.isEmpty()) {
        h.state = QStringLiteral("not-answering");
        h.reason = error;
        h.lastStatistics.clear();
        if (!h.history.empty()) // the charts show the outage as a break
            append(h, HealthSample{QDateTime::currentMSecsSinceEpoch(), 0, 0, -1, 0, true});
    } else {
        const QString readiness = h.node.value(QStringLiteral("readiness")).toString();
        h.reason.clear();
        if (readiness == QLatin1String("draining") || readiness == QLatin1String("starting"))
            h.state = readiness;
        else if (h.node.value(QStringLiteral("overloaded")).toBool())
            h.state = QStringLiteral("overloaded");
        else
            h.state = QStringLiteral("healthy");
    }
    Q_EMIT healthChanged(address);
}

void HealthPoller::pollConsumer(const QString &statusAddress)
{
    const QString service = m_consumerService;
    QUrlQuery query;
    query.addQueryItem(QStringLiteral("service-id"), service);
    const QString path = QStringLiteral("/tomato/status/invoker?") + query.toString(QUrl::FullyEncoded);
    get(QStringLiteral("tcp"), statusAddress, path, [this, statusAddress, service](QNetworkReply *reply) {
        --m_inFlight;
        const QString key = ConsumerPrefix + statusAddress;
        if (m_targets.contains(key))
            m_targets[key].busy = false;
        if (service != m_consumerService || !m_targets.contains(key))
            return;
        ConsumerHealth c;
        if (reply->error() != QNetworkReply::NoError) {
            c.reason = reply->errorString();
        } else {
            c.answered = true;
            for (const QVariant &stage : json(reply).toList()) {
                const QVariantMap groups = stage.toMap().value(QStringLiteral("groups")).toMap();
                for (const QVariant &invokers : groups) {
                    for (const QVariant &invoker : invokers.toList())
                        ++c.circuits[invoker.toMap().value(QStringLiteral("circuit")).toString()];
                }
            }
        }
        m_consumers.insert(statusAddress, c);
        Q_EMIT consumerChanged(statusAddress);
    });
}

} // namespace Tomato
