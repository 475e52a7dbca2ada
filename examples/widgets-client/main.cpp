// SPDX-License-Identifier: Apache-2.0
// tomato-widgets-client: a Qt Widgets window calling the sample server's DemoService without
// ever blocking its GUI thread. A call returns a QFuture at once; its outcome comes back to
// the GUI thread through a continuation with the window as context (QFuture::then(this,
// ...)). While it runs: a busy bar, a ticking counter that proves the window still paints,
// and a Cancel button that cancels the future, which sends a Cancel frame: the server
// cancels the pending countPrimes() and its sieve stops (docs/ASYNC.md).
//
//   tomato-widgets-client [--server tcp://127.0.0.1:4567] [--screenshot widgets.png]
//
// --screenshot (or no display) runs offscreen through a script (a result, an error, a
// cancelled call), writes the window to the PNG and exits 0.
#include "demoservice.h"
#include "demoservice_stub.h"

#include <tomato/client/rpcclient.h>

#include <QtCore/QCommandLineParser>
#include <QtCore/QElapsedTimer>
#include <QtCore/QTimer>
#include <QtWidgets/QApplication>
#include <QtWidgets/QFormLayout>
#include <QtWidgets/QHBoxLayout>
#include <QtWidgets/QLabel>
#include <QtWidgets/QProgressBar>
#include <QtWidgets/QPushButton>
#include <QtWidgets/QSpinBox>
#include <QtWidgets/QVBoxLayout>
#include <QtWidgets/QWidget>

#include <cstdio>
#include <functional>
#include <memory>

namespace {

class Window : public QWidget
{
public:
    explicit Window(Sample::DemoServiceStub *demo) : m_demo(demo)
    {
        setWindowTitle(QStringLiteral("Tomato RPC from Qt Widgets"));
        m_limit = new QSpinBox;
        m_limit->setRange(2, 100'000'000);
        m_limit->setSingleStep(1'000'000);
        m_limit->setGroupSeparatorShown(true);
        m_limit->setValue(30'000'000);
        m_count = new QPushButton(QStringLiteral("Count primes"));
        m_cancel = new QPushButton(QStringLiteral("Cancel"));
        m_cancel->setEnabled(false);
        auto *divide = new QPushButton(QStringLiteral("Divide 1 by 0"));
        m_busy = new QProgressBar;
        m_busy->setRange(0, 1);
        m_busy->setTextVisible(false);
        m_result = new QLabel(QStringLiteral("No call yet."));
        m_error = new QLabel;
        m_error->setStyleSheet(QStringLiteral("color: #a4161a"));
        m_error->setWordWrap(true);
        m_ticks = new QLabel;
        m_history = new QLabel;
        m_history->setStyleSheet(QStringLiteral("color: #555"));

        auto *buttons = new QHBoxLayout;
        buttons->addWidget(m_count);
        buttons->addWidget(m_cancel);
        buttons->addWidget(divide);
        auto *form = new QFormLayout;
        form->addRow(QStringLiteral("Primes below"), m_limit);
        form->addRow(QString(), buttons);
        form->addRow(QStringLiteral("In flight"), m_busy);
        form->addRow(QStringLiteral("Result"), m_result);
        form->addRow(QStringLiteral("Error"), m_error);
        form->addRow(QStringLiteral("GUI thread"), m_ticks);
        form->addRow(QStringLiteral("Earlier"), m_history);
        auto *layout = new QVBoxLayout(this);
        layout->addLayout(form);
        layout->addStretch();
        resize(560, 300);

        connect(m_count, &QPushButton::clicked, this, [this] { countPrimes(); });
        connect(m_cancel, &QPushButton::clicked, this, [this] { cancel(); });
        connect(divide, &QPushButton::clicked, this, [this] { divideByZero(); });
        // Ticks while calls run: the GUI thread never waits for the network.
        auto *heartbeat = new QTimer(this);
        connect(heartbeat, &QTimer::timeout, this, [this] {
            ++m_tickCount;
            m_ticks->setText(QStringLiteral("responsive: %1 ticks of 100 ms").arg(m_tickCount));
        });
        heartbeat->start(100);
    }

    void countPrimes()
    {
        const int limit = m_limit->value();
        remember();
        setBusy(true);
        m_started.start();
        m_call = m_demo->countPrimesAsync(limit, Tomato::CallOptions().setTimeout(std::chrono::minutes(2)));
        m_call.then(this, [this, limit](QFuture<int> done) {
                  try {
                      const int primes = Tomato::waitFor(done);
                      m_result->setText(QStringLiteral("%L1 primes below %L2 (%3 ms)")
                                            .arg(primes).arg(limit).arg(m_started.elapsed()));
                      m_error->clear();
                  } catch (const Tomato::RpcError &e) {
                      m_error->setText(e.toString());
                  }
                  setBusy(false);
                  settled();
              })
            .onCanceled(this, [this] {
                m_result->setText(QStringLiteral("Cancelled after %1 ms: the server stopped counting.")
                                      .arg(m_started.elapsed()));
                setBusy(false);
                settled();
            });
    }

    void cancel() { m_call.cancel(); } // the client sends Cancel; the server cancels the future

    void divideByZero()
    {
        remember();
        m_demo->divideAsync(1, 0).then(this, [this](QFuture<int> done) {
            try {
                m_result->setText(QString::number(Tomato::waitFor(done)));
            } catch (const Tomato::RpcError &e) {
                m_error->setText(QStringLiteral("%1 (%2): %3")
                                     .arg(Tomato::RpcError::codeName(e.code()), e.remoteType(), e.message()));
            }
            settled();
        });
    }

    QSpinBox *limit() const { return m_limit; }
    std::function<void()> onSettled; // the script's next step

private:
    void setBusy(bool busy)
    {
        m_busy->setRange(0, busy ? 0 : 1); // 0..0: the busy animation
        m_count->setEnabled(!busy);
        m_cancel->setEnabled(busy);
    }
    // The outcome shown so far moves down to the history (the last four).
    void remember()
    {
        const QString shown = !m_error->text().isEmpty() ? m_error->text() : m_result->text();
        if (shown.isEmpty() || shown == QLatin1String("No call yet."))
            return;
        m_earlier.prepend(shown);
        m_earlier = m_earlier.mid(0, 4);
        m_history->setText(m_earlier.join(QLatin1Char('\n')));
        m_result->clear();
        m_error->clear();
    }
    void settled()
    {
        if (onSettled)
            onSettled();
    }

    Sample::DemoServiceStub *m_demo;
    QFuture<int> m_call;
    QElapsedTimer m_started;
    QSpinBox *m_limit;
    QPushButton *m_count, *m_cancel;
    QProgressBar *m_busy;
    QLabel *m_result, *m_error, *m_ticks, *m_history;
    QStringList m_earlier;
    int m_tickCount = 0;
};

} // namespace

int main(int argc, char **argv)
{
    bool screenshot = false;
    for (int i = 1; i < argc; ++i)
        screenshot = screenshot || qstrncmp(argv[i], "--screenshot", 12) == 0;
    if ((screenshot || qEnvironmentVariableIsEmpty("DISPLAY")) && qEnvironmentVariableIsEmpty("WAYLAND_DISPLAY")
        && qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
        qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
    app.setApplicationName(QStringLiteral("tomato-widgets-client"));
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Calls the sample server from a Qt Widgets window."));
    parser.addHelpOption();
    parser.addOptions({
        {QStringLiteral("server"), QStringLiteral("The sample server (default tcp://127.0.0.1:4567)."),
         QStringLiteral("address"), QStringLiteral("tcp://127.0.0.1:4567")},
        {QStringLiteral("screenshot"), QStringLiteral("Run a scripted exchange, write the window to a PNG, and exit."),
         QStringLiteral("file")},
    });
    parser.process(app);

    Tomato::RpcClient client;
    std::unique_ptr<Sample::DemoServiceStub> demo;
    try {
        demo = client.createDirectStub<Sample::DemoService>(parser.value(QStringLiteral("server")));
    } catch (const Tomato::RpcError &e) {
        std::fprintf(stderr, "--server: %s\n", e.what());
        return 2;
    }
    Window window(demo.get());
    window.show();
    if (!parser.isSet(QStringLiteral("screenshot")))
        return app.exec();

    // The script: a result, an error, then a long count cancelled after 300 ms.
    const QString file = parser.value(QStringLiteral("screenshot"));
    int rc = 1, step = 0;
    window.onSettled = [&] {
        switch (++step) {
        case 1:
            window.divideByZero();
            break;
        case 2:
            window.limit()->setValue(100'000'000);
            window.countPrimes();
            QTimer::singleShot(300, &window, [&] { window.cancel(); });
            break;
        default:
            QTimer::singleShot(150, &window, [&] {
                if (window.grab().save(file)) {
                    std::printf("wrote %s\n", qPrintable(file));
                    rc = 0;
                }
                app.quit();
            });
        }
    };
    window.limit()->setValue(1'000'000);
    window.countPrimes();
    QTimer::singleShot(30000, &app, [&] {
        std::fprintf(stderr, "the script did not finish within 30 s\n");
        app.quit();
    });
    app.exec();
    return rc;
}
