package io.centrigate.cli.check;

import java.util.Objects;

/**
 * The result of one check. {@code check} names it (no colon, it ends the name in the text form); {@code detail}
 * says what was found against what is needed; {@code fix} is the exact command or setting, null when PASS.
 */
public record Finding(String check, Status status, String detail, String fix)
{
    public Finding
    {
        Objects.requireNonNull(check, "check");
        Objects.requireNonNull(status, "status");
        Objects.requireNonNull(detail, "detail");
        if (check.isEmpty() || check.indexOf(':') >= 0)
        {
            throw new IllegalArgumentException("check name must be non-empty without ':': " + check);
        }
        if (status == Status.PASS ? fix != null : fix == null || fix.isEmpty())
        {
            throw new IllegalArgumentException(check + ": a fix is given exactly when the status is not PASS");
        }
    }

    static Finding pass(final String check, final String detail)
    {
        return new Finding(check, Status.PASS, detail, null);
    }

    static Finding warn(final String check, final String detail, final String fix)
    {
        return new Finding(check, Status.WARN, detail, fix);
    }

    static Finding fail(final String check, final String detail, final String fix)
    {
        return new Finding(check, Status.FAIL, detail, fix);
    }
}
