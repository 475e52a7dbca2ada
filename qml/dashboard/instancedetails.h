// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <QtCore/QObject>
#include <QtCore/QVariantList>
#include <QtQml/qqmlregistration.h>

namespace Tomato {

class ClusterView;
class HealthPoller;
struct InstanceHealth;
struct HealthSample;

// The instance page's data (docs/DASHBOARD.md#instance): what the registry says of the
// instance at `address` and what its status pages say, refreshed as the poller reads them.
//
// services: [{service, microServiceId, methods: [{name, signature, returnType, idempotent,
//             arguments: [{name, type}]}]}] (the built-in introspection left out)
// callsHistory / p99History: one number per sample, oldest first, about `historyIntervalMs`
//             apart; -1 is a break in the line (p99: no call answered; both: the instance did
//             not answer, or restarted)
// recentErrors: [{time: "hh:mm:ss", method, code, count}], newest first
//
// Threads: the GUI thread.
class InstanceDetails : public QObject
{
    Q_OBJECT
    QML_ELEMENT
    QML_UNCREATABLE("made by Dashboard")
    Q_PROPERTY(QString address READ address NOTIFY addressChanged)
    Q_PROPERTY(bool known READ isKnown NOTIFY changed)       // in the registry
    Q_PROPERTY(bool loaded READ isLoaded NOTIFY changed)     // its pages have answered
    Q_PROPERTY(QString microServiceId READ microServiceId NOTIFY changed)
    Q_PROPERTY(QString stage READ stage NOTIFY changed)
    Q_PROPERTY(QString group READ group NOTIFY changed)
    Q_PROPERTY(QString transport READ transport NOTIFY changed)
    Q_PROPERTY(QString state READ state NOTIFY changed)
    Q_PROPERTY(QString stateReason READ stateReason NOTIFY changed)
    Q_PROPERTY(QVariantMap node READ node NOTIFY changed)
    Q_PROPERTY(QVariantList services READ services NOTIFY changed)
    Q_PROPERTY(QString metricsText READ metricsText NOTIFY changed)
    Q_PROPERTY(QVariantList callsHistory READ callsHistory NOTIFY changed)
    Q_PROPERTY(QVariantList p99History READ p99History NOTIFY changed)
    Q_PROPERTY(int historyIntervalMs READ historyIntervalMs CONSTANT)
    Q_PROPERTY(QVariantList recentErrors READ recentErrors NOTIFY changed)
    Q_PROPERTY(double callsPerSecond READ callsPerSecond NOTIFY changed)
    Q_PROPERTY(double errorRate READ errorRate NOTIFY changed)
    Q_PROPERTY(double p99Ms READ p99Ms NOTIFY changed)
    Q_PROPERTY(int inFlight READ inFlight NOTIFY changed)
public:
    InstanceDetails(ClusterView *cluster, HealthPoller *poller, int historyIntervalMs, QObject *parent = nullptr);

    QString address() const { return m_address; }
    void setAddress(const QString &address);
    bool isKnown() const;
    bool isLoaded() const;
    QString microServiceId() const;
    QString stage() const;
    QString group() const;
    QString transport() const;
    QString state() const;
    QString stateReason() const;
    QVariantMap node() const;
    QVariantList services() const;
    QString metricsText() const;
    QVariantList callsHistory() const;
    QVariantList p99History() const;
    int historyIntervalMs() const { return m_historyIntervalMs; }
    QVariantList recentErrors() const;
    double callsPerSecond() const;
    double errorRate() const;
    double p99Ms() const;
    int inFlight() const;

Q_SIGNALS:
    void addressChanged();
    void changed();

private:
    struct Where
    {
        QString service, stage, group, transport;
        bool disabled = false;
    };
    Where where() const;
    const InstanceHealth *health() const;
    QVariantList history(double HealthSample::*value) const;

    ClusterView *m_cluster;
    HealthPoller *m_poller;
    int m_historyIntervalMs;
    QString m_address;
};

} // namespace Tomato
