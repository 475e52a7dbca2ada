// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <tomato/core/tomato_export.h>

#include <QtCore/QDateTime>
#include <QtCore/QMap>
#include <QtCore/QString>

namespace Tomato {

// How calls to one instance of a service have gone, as RpcClient::invokers() reports it
// (docs/CLUSTER.md#statistics). A snapshot: a plain value, taken without stopping calls.
struct TOMATO_EXPORT InvokerStats
{
    QString microServiceId;
    QString stage;
    QString group;
    QString address;          // tcp://host:port
    int weight = 0;           // as registered
    int effectiveWeight = 0;  // now: override and warm-up applied
    // "ready", "connecting" (no connection yet), "backoff" (connect failed, waiting to retry),
    // "draining" (it answered ShuttingDown), "disabled" (an override), "open" or "half-open"
    // (its circuit breaker)
    QString state;
    QString circuit;          // "closed", "open", "half-open"
    bool connected = false;   // a connection to it is up
    quint64 calls = 0;        // ended, any outcome
    quint64 failures = 0;     // of those, failed (any code)
    QMap<int, quint64> errorsByCode; // RpcError::Code -> count
    int inFlight = 0;
    // Latency of the most recent successful calls (up to 1024), in microseconds.
    qint64 p50Us = 0;
    qint64 p90Us = 0;
    qint64 p99Us = 0;
    qint64 maxUs = 0;
    QString lastError;        // "Timeout: ...", empty if none
    QDateTime lastErrorAt;    // UTC; invalid if none
    QDateTime startedAt;      // the instance's start time, if it said; UTC
};

} // namespace Tomato
