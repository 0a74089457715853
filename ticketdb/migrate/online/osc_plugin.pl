# ticketdb's plugin for pt-online-schema-change (loaded with --plugin; see
# ticketdb/migrate/online/ptosc.py). pt-osc copies the rows; ticketdb verifies the copy and swaps
# the tables itself, so this plugin stops pt-osc right before its own trigger move and swap:
# it prints a marker line and waits for one command on STDIN (after the password line and the
# "go" that follows its copy triggers):
#   "swapped"  ticketdb did the swap: end at once, no cleanup (POSIX::_exit);
#   anything else, or end of file (ticketdb died): die, so pt-osc's cleanup drops its copy
#   triggers and the new table and the original table stays as it was.
package pt_online_schema_change_plugin;

use strict;
use warnings;
use IO::Handle;
use POSIX ();

sub new {
    my ($class, %args) = @_;
    return bless {%args}, $class;
}

sub _mark {
    my ($text) = @_;
    print STDOUT "TICKETDB_OSC $text\n";
    STDOUT->flush();
}

sub after_create_new_table {
    my ($self, %args) = @_;
    _mark("new_table $args{new_tbl}->{tbl}");
}

# Wait for "go" before the first chunk: on Galera ticketdb first makes every node reopen the
# table, so each node's writers fire the new copy triggers (see ptosc.py).
sub after_create_triggers {
    _mark("triggers");
    my $command = <STDIN>;
    die "ticketdb: the online copy was aborted before copying\n"
        unless defined $command && $command =~ /^go\s*$/;
}

sub after_copy_rows {
    _mark("copied");
}

sub before_swap_tables {
    _mark("waiting");
    my $command = <STDIN>;
    if (defined $command && $command =~ /^swapped\s*$/) {
        STDOUT->flush();
        POSIX::_exit(0);
    }
    die "ticketdb: the online copy was aborted before the swap\n";
}

1;
