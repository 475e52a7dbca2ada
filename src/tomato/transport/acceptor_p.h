// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <QtCore/QObject>
#include <QtCore/QString>
#include <QtCore/QTimer>

#include <atomic>
#include <chrono>
#include <functional>

class QSocketNotifier;

namespace Tomato {

// The accept loop of a listening socket: TcpListener and UnixListener use it instead of
// QTcpServer and QLocalServer, which stop accepting for good (QTcpServer pauses and never
// resumes, QLocalServer closes) the first time the process runs out of descriptors.
//
// Lives on its listener's thread, which alone calls it; the handler runs there and owns each
// descriptor it gets (accepted non-blocking and close-on-exec). exhaustions() may be read from
// any thread.
//
// Errors: the "pending network errors" of accept(2) (a peer that gave up while waiting, ...)
// cost nothing. Running out of descriptors or memory never spins and never stops the loop: one
// spare descriptor, held for the purpose, is let go of to accept one waiting connection and end
// it at once (its peer learns now instead of hanging in the backlog), then accepting pauses for
// a back-off (10 ms doubling to 1 s) and resumes; a warning says so at most every 10 s. Any
// other error means the socket is unusable: one warning, and this listener accepts no more.
class Acceptor final : public QObject
{
    Q_OBJECT
public:
    using Handler = std::function<void(qintptr descriptor)>;

    // Accepts per wake-up: the notifier is level-triggered and fires again for the rest, so a
    // flood of connections cannot starve the other work of the thread.
    static constexpr int MaxAcceptsPerWakeUp = 64;
    static constexpr std::chrono::milliseconds FirstBackOff{10};
    static constexpr std::chrono::milliseconds MaxBackOff{1000};
    static constexpr std::chrono::milliseconds WarningInterval{10000};

    explicit Acceptor(Handler onAccept, QObject *parent = nullptr);
    ~Acceptor() override; // closes

    // Takes `descriptor`, a listening non-blocking socket, and starts accepting on it.
    // `description` names it in warnings ("tcp://0.0.0.0:4567").
    void start(int descriptor, const QString &description);
    // Stops accepting and closes the listening descriptor (and the spare). Idempotent.
    void close();
    bool isOpen() const { return m_fd >= 0; }

    // How often accepting found the process out of descriptors or memory, since construction.
    quint64 exhaustions() const { return m_exhaustions.load(std::memory_order_relaxed); }

private:
    void acceptPending();
    void onExhausted(int error);
    void resume();
    void noteRefusal(int error, bool refused);
    void warnRefusals(bool summary);

    Handler m_onAccept;
    QString m_description;
    int m_fd = -1;
    int m_spare = -1; // /dev/null, closed to make room for one accept when out of descriptors
    QSocketNotifier *m_notifier = nullptr;
    QTimer m_resumeTimer;
    std::chrono::milliseconds m_backOff = FirstBackOff;
    std::atomic<quint64> m_exhaustions{0};

    // The rate-limited warning: what happened since the last line, and when to write the next.
    QTimer m_warningTimer;
    std::chrono::steady_clock::time_point m_lastWarning{};
    bool m_warnedYet = false;
    int m_lastError = 0;
    quint64 m_unreportedEvents = 0;
    quint64 m_unreportedRefused = 0;
};

} // namespace Tomato
