// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <tomato/core/rpcconfig.h>

#include <QtCore/QDateTime>
#include <QtCore/QElapsedTimer>
#include <QtCore/QHash>
#include <QtCore/QObject>
#include <QtCore/QTimer>
#include <QtCore/QVariantMap>
#include <QtNetwork/QSslConfiguration>
#include <deque>
#include <functional>

class QNetworkAccessManager;
class QNetworkReply;

namespace Tomato {

// One sample of an instance's health: the differences between two answers of its statistics
// page. A gap is a poll that got no comparable answer (not answering, or restarted): the
// charts break their lines there.
struct HealthSample
{
    qint64 at = 0;              // ms since the epoch
    double callsPerSecond = 0;
    double errorRate = 0;       // 0..1 of the calls answered since the previous sample
    double p99Ms = -1;          // -1: no call since the previous sample
    qint64 inFlight = 0;
    bool gap = false;
};

// A burst of errors seen between two samples.
struct HealthError
{
    qint64 at = 0;
    QString method; // "Service::method"
    QString code;   // "Timeout", "ApplicationError", ...
    quint64 count = 0;
};

// What is known of an instance from its status pages (docs/STATUS.md).
struct InstanceHealth
{
    // "unknown" (not read yet), "healthy", "starting", "draining", "overloaded", "not-answering".
    QString state = QStringLiteral("unknown");
    QString reason;          // for not-answering: what failed
    QVariantMap node;        // /tomato/status/node
    QVariantList services;   // /tomato/status/services, read once per start time
    QString metricsText;     // /metrics, read only while details are wanted
    QVariantMap lastStatistics;
    qint64 lastStatisticsAt = 0;
    std::deque<HealthSample> history;  // oldest first, at most HealthPoller::HistoryLength
    std::deque<HealthError> errors;    // newest last, at most 50
    // The last sample; a gap reads as no calls.
    HealthSample latest() const { return history.empty() || history.back().gap ? HealthSample{} : history.back(); }
};

// Breaker states of a consumer's invokers of one service, from its invoker page.
struct ConsumerHealth
{
    bool answered = false;
    QString reason;
    QHash<QString, int> circuits; // "closed"/"open"/"half-open" -> invokers
};

// Reads the status pages of every instance in the background (node and statistics each
// poll, the services page once per start, /metrics for the instance whose details are
// open), and consumers' invoker pages for the service on screen: each target at most once per
// `intervalMs`, the whole poller at most `maxPerSecond` polls a second (a poll is two
// requests, now and then four) and 8 at once, the targets on screen first but every fourth
// poll for whichever target has waited longest, so that none starves. A request that takes
// over 2 s or fails makes the instance "not answering".
//
// Threads: the GUI thread (QNetworkAccessManager's replies arrive there).
class HealthPoller : public QObject
{
    Q_OBJECT
public:
    static constexpr int HistoryLength = 150;

    HealthPoller(const RpcConfig &config, int intervalMs, int maxPerSecond, QObject *parent = nullptr);
    ~HealthPoller() override;

    // Every instance to watch, "host:port" -> "tcp"/"tls"; others are forgotten.
    void setInstances(const QHash<QString, QString> &transports);
    // Polled first.
    void setPreferred(const QStringList &addresses);
    // Its /metrics is read too.
    void setDetailed(const QString &address);
    // Consumers ("host:port" of their status pages) and the service whose invokers they report.
    void setConsumers(const QString &microServiceId, const QStringList &statusAddresses);

    const InstanceHealth *health(const QString &address) const;

    // The arithmetic of a sample (public for tests): calls/s, error rate, p99 and in flight
    // between two answers of /tomato/status/statistics taken at `beforeAt` and `afterAt` (ms);
    // a gap when the counters went back (a restart) or no time passed.
    static HealthSample compare(const QVariantMap &before, qint64 beforeAt, const QVariantMap &after, qint64 afterAt);
    // The 99th percentile of the calls answered between them, interpolated within its bucket
    // as Prometheus' histogram_quantile() does; -1 when none was answered.
    static double p99Between(const QVariantMap &before, const QVariantMap &after);
    // The errors by method and code counted between them.
    static QList<HealthError> errorsBetween(const QVariantMap &before, const QVariantMap &after, qint64 at);
    const ConsumerHealth *consumer(const QString &statusAddress) const;
    // Every instance has failed, or answered twice, so that its rates are known.
    bool allSampled(const QStringList &addresses) const;
    // Every consumer status page has answered or failed at least once.
    bool allConsumersPolled(const QStringList &statusAddresses) const;

Q_SIGNALS:
    void healthChanged(const QString &address);
    void consumerChanged(const QString &statusAddress);

private:
    struct Target
    {
        QString key;       // instance address, or "consumer:" + status address
        qint64 dueAt = 0;  // steady ms
        bool busy = false;
    };
    void tick();
    Target *nextDue();
    void pollInstance(const QString &address);
    void pollConsumer(const QString &statusAddress);
    void get(const QString &transport, const QString &address, const QString &path,
             std::function<void(QNetworkReply *)> done);
    void finishInstance(const QString &address, const QString &error);
    void sample(const QString &address, const QVariantMap &statistics);
    static void append(InstanceHealth &h, const HealthSample &s);
    QString transportOf(const QString &address) const;

    RpcConfig m_config;
    int m_intervalMs;
    int m_maxPerSecond;
    QNetworkAccessManager *m_nam;
    QSslConfiguration m_ssl;
    QHash<QString, QString> m_transports;
    QHash<QString, InstanceHealth> m_health;
    QHash<QString, ConsumerHealth> m_consumers;
    QString m_consumerService;
    QStringList m_preferred;
    QString m_detailed;
    QHash<QString, Target> m_targets;
    QElapsedTimer m_steady;
    QTimer m_timer;
    int m_inFlight = 0;
    quint64 m_ticks = 0;
};

} // namespace Tomato
