// SPDX-License-Identifier: Apache-2.0
#pragma once
// What the commands of the `tomato` command line share: exit codes and failures, the global
// options, the command table, output, and waiting on the main thread's event loop.
//
// Threads: everything runs on the main thread. Commands never block it: they wait by running
// its event loop (EventWait, await()), so the registry and the client, which live there, keep
// working while a command waits for them.
#include <tomato/client/stub.h>
#include <tomato/core/rpcconfig.h>
#include <tomato/core/rpcerror.h>

#include <QtCore/QCommandLineOption>
#include <QtCore/QDeadlineTimer>
#include <QtCore/QEventLoop>
#include <QtCore/QFutureWatcher>
#include <QtCore/QJsonValue>
#include <QtCore/QTimer>

#include <functional>
#include <stdexcept>

class QCommandLineParser;

namespace Cli {

// docs/CLI.md#exit-codes
enum ExitCode : int {
    Success = 0,
    RemoteFailure = 1, // the node answered with an error: the method threw, or it refused the call
    UsageError = 2,    // the command line is wrong: unknown command or option, bad argument, malformed JSON
    Unreachable = 3,   // no answer: cannot connect, no provider, registry unreachable, timeout
    InternalError = 4, // anything else: an answer the tool cannot read, an unexpected exception
};

// Ends a command: main() prints "tomato: <message>" on stderr and exits with `code`.
class Failure : public std::runtime_error
{
public:
    Failure(ExitCode code, const QString &message);
    ExitCode code() const { return m_code; }

private:
    ExitCode m_code;
};

// The exit code of a call that failed with `error` (docs/CLI.md#exit-codes).
ExitCode exitCodeOf(const Tomato::RpcError &error);
// "ApplicationException (205): std::domain_error: division by zero"
QString describe(const Tomato::RpcError &error);

// The options every command takes (docs/CLI.md#global-options).
struct GlobalOptions
{
    QString nameServiceUri; // empty: no registry
    bool json = false;
    int timeoutMs = 5000;
    QString stage; // empty: not given
    QString group; // empty: not given
    // The client's configuration: TOMATO_RPC_* from the environment (and its file), with the
    // stage, group and timeout above.
    Tomato::RpcConfig config;
    QDeadlineTimer deadline; // the command's: timeoutMs from its start
};

// One command's command line: the global options, the command's own options (read them
// from `parser` by name) and its positional arguments, the command's name left out.
struct Invocation
{
    GlobalOptions global;
    const QCommandLineParser *parser = nullptr;
    QStringList arguments;
};

// A positional argument of a command: its name and description for the help, and its syntax
// in the usage line: "<name>" when it is required, "[name]" when not.
struct Argument
{
    QString name;
    QString description;
    QString syntax;
    bool isRequired() const { return syntax.startsWith(QLatin1Char('<')); }
};

struct Command
{
    QString name;
    QString summary;     // one line in `tomato --help`
    QString description; // its help: what it does and prints
    QList<Argument> arguments;
    QList<QCommandLineOption> options;
    std::function<int(const Invocation &)> run; // returns the exit code or throws
};

// The commands, in the order `tomato --help` lists them.
Command listCommand();     // registrycommands.cpp
Command overrideCommand(); // registrycommands.cpp
Command watchCommand();    // watchcommand.cpp
Command describeCommand(); // nodecommands.cpp
Command callCommand();     // nodecommands.cpp
Command statusCommand();   // nodecommands.cpp

// Output on stdout, flushed at once (so that a pipe sees each line as it is printed).
void printLine(const QString &line);
// `value` as JSON text: compact on one line, or indented. Scalars too ("hi" prints "\"hi\"").
QString jsonText(const QJsonValue &value, bool pretty);
// "2025-06-01T10:00:00Z" (UTC, to the second), or "-" for 0 (unknown).
QString timeText(qint64 msSinceEpoch);

// Runs the main thread's event loop until quit() or the deadline.
class EventWait : public QObject
{
public:
    explicit EventWait(QDeadlineTimer deadline);
    void quit();
    // True when quit() ended it (or came before), false when the deadline did.
    bool exec();

private:
    QEventLoop m_loop;
    QTimer m_timer;
    bool m_quit = false;
};

// Runs the event loop until `future` has finished, then returns its value or throws its
// error (an RpcError). Throws Failure(Unreachable) naming `what` when the deadline comes first.
template<typename T>
T await(const QFuture<T> &future, QDeadlineTimer deadline, const QString &what)
{
    QFutureWatcher<T> watcher;
    EventWait wait(deadline);
    QObject::connect(&watcher, &QFutureWatcherBase::finished, &wait, &EventWait::quit);
    watcher.setFuture(future);
    if (!future.isFinished() && !wait.exec())
        throw Failure(Unreachable, QStringLiteral("%1: no answer in time (see --timeout)").arg(what));
    return Tomato::waitFor(future);
}

} // namespace Cli
